<?php
// One PHP process of the compat benchmark: CALLS sendToUid calls to uids u<START..> (mod CLIENTS), made as a PHP
// backend makes them. MODE=gatewayclient: GatewayWorker's GatewayClient (GATEWAYCLIENT_DIR) through the compat port
// (PERSISTENT=1: with $persistentConnection); MODE=curl: POST /v1/sendToUid to the HTTP API (API_URL, API_KEY), one
// curl handle, so the connection is kept alive. Prints "done <calls>" at the end.
$calls = (int)getenv('CALLS');
$clients = (int)getenv('CLIENTS');
$start = (int)getenv('START');
$message = str_repeat('u', (int)getenv('SIZE'));
if (getenv('MODE') === 'gatewayclient') {
    $dir = getenv('GATEWAYCLIENT_DIR');
    require "$dir/Context.php";
    require "$dir/GatewayProtocol.php";
    require "$dir/Gateway.php";
    GatewayClient\Gateway::$registerAddress = getenv('REGISTER');
    GatewayClient\Gateway::$secretKey = getenv('SECRET');
    GatewayClient\Gateway::$persistentConnection = getenv('PERSISTENT') === '1';
    for ($i = 0; $i < $calls; $i++) {
        GatewayClient\Gateway::sendToUid('u' . (($start + $i) % $clients), $message);
    }
} else {
    $curl = curl_init(getenv('API_URL') . 'sendToUid');
    curl_setopt_array($curl, [
        CURLOPT_POST => true,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_HTTPHEADER => ['Authorization: Bearer ' . getenv('API_KEY'), 'Content-Type: application/json'],
    ]);
    for ($i = 0; $i < $calls; $i++) {
        curl_setopt($curl, CURLOPT_POSTFIELDS, json_encode(['uid' => 'u' . (($start + $i) % $clients), 'message' => $message]));
        curl_exec($curl);
        if (curl_getinfo($curl, CURLINFO_RESPONSE_CODE) !== 200) {
            fwrite(STDERR, 'HTTP ' . curl_getinfo($curl, CURLINFO_RESPONSE_CODE) . "\n");
            exit(1);
        }
    }
}
echo "done $calls\n";
