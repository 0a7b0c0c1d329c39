// A WebSocket console for any handler: sends what is typed, shows what arrives. Text only ever goes into the page
// as textContent, so a message with markup is shown, never run.
(() => {
  const status = document.getElementById('status');
  const log = document.getElementById('log');
  const input = document.getElementById('message-input');
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
  let socket;

  function show(text, kind) {
    const line = document.createElement('li');
    line.className = kind;
    line.textContent = text;
    log.prepend(line);
  }

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function connect() {
    socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => setStatus('open', 'connected');
    socket.onmessage = (event) => {
      const text = typeof event.data === 'string' ? event.data : `(binary, ${event.data.byteLength} bytes)`;
      try {
        const parsed = JSON.parse(text);
        if (parsed && typeof parsed.clientId === 'string') document.getElementById('client-id').textContent = parsed.clientId;
      } catch {}
      show(text, 'received');
    };
    socket.onclose = (event) => {
      setStatus('closed', `closed (${event.code}); reconnecting…`);
      setTimeout(connect, 1000);
    };
  }

  document.getElementById('send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!input.value || socket.readyState !== WebSocket.OPEN) return;
    socket.send(input.value);
    show(input.value, 'sent');
    input.value = '';
  });
  connect();
})();
