import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Cmd, encodeAnswer, encodeGatewayFrame, GatewayFrameReader, GatewayProtocolError, HEAD_LEN } from '../../runtime/compat/gateway-protocol.js';
import { gatewayClientDir } from '../harness/php-gatewayclient.js';

describe('GatewayProtocol frames', () => {
  it('reads what GatewayClient\'s GatewayProtocol::encode writes, whatever the chunks', () => {
    // PHP's own encoder (the library's, unchanged): a bindUid and a sendToAll to listed connections, back to back.
    const php = `require '${gatewayClientDir()}/GatewayProtocol.php'; use GatewayClient\\GatewayProtocol as P;
      $a = P::$empty; $a['cmd'] = P::CMD_BIND_UID; $a['connection_id'] = 4000000000; $a['ext_data'] = 'alice';
      $b = P::$empty; $b['cmd'] = P::CMD_SEND_TO_ALL; $b['body'] = 'hé'; $b['ext_data'] = json_encode(['connections' => [7 => 7]]);
      echo base64_encode(P::encode($a) . P::encode($b));`;
    const bytes = Buffer.from(execFileSync('php', ['-r', php]).toString(), 'base64');
    for (const size of [1, 5, 29, bytes.length]) {
      const reader = new GatewayFrameReader(1024);
      const frames = [];
      for (let at = 0; at < bytes.length; at += size) frames.push(...reader.push(bytes.subarray(at, at + size)));
      assert.equal(frames.length, 2, `chunks of ${size}`);
      assert.deepEqual([frames[0]!.cmd, frames[0]!.connectionId, frames[0]!.extData.toString(), frames[0]!.flag], [Cmd.BIND_UID, 4000000000, 'alice', 1]);
      assert.deepEqual([frames[1]!.cmd, frames[1]!.extData.toString(), frames[1]!.body.toString()], [Cmd.SEND_TO_ALL, '{"connections":{"7":7}}', 'hé']);
    }
    assert.ok(encodeGatewayFrame({ cmd: Cmd.SEND_TO_ALL, extData: Buffer.from('{"connections":{"7":7}}'), body: Buffer.from('hé') }).equals(bytes.subarray(-HEAD_LEN - 26)));
  });

  it('refuses a length past the limit before buffering it, and a header that does not hold together', () => {
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(2048, 0);
    assert.throws(() => new GatewayFrameReader(1024).push(huge), (e: Error) => e instanceof GatewayProtocolError && e.reason === 'too-large');
    const short = Buffer.alloc(4);
    short.writeUInt32BE(27, 0);
    assert.throws(() => new GatewayFrameReader(1024).push(short), (e: Error) => e instanceof GatewayProtocolError && e.reason === 'header');
    const ext = encodeGatewayFrame({ cmd: Cmd.SEND_TO_ALL, body: Buffer.from('ab') });
    ext.writeUInt32BE(3, 24);
    assert.throws(() => new GatewayFrameReader(1024).push(ext), /ext_len 3 runs past/);
  });

  it('frames an answer as pack(\'N\', length) . serialize()', () => {
    assert.ok(encodeAnswer(Buffer.from('i:1;')).equals(Buffer.from([0, 0, 0, 4, ...Buffer.from('i:1;')])));
  });
});
