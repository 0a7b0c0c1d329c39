// Chat page for the bundled chat handler. User data is only ever put in the page with textContent.
(() => {
  'use strict';

  const MIN_RETRY_MS = 500;
  const MAX_RETRY_MS = 10_000;

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('status'),
    roomLabel: $('room-label'),
    loginForm: $('login-form'),
    loginError: $('login-error'),
    nameInput: $('name-input'),
    roomInput: $('room-input'),
    chat: $('chat'),
    messages: $('message-list'),
    users: $('user-list'),
    userCount: $('user-count'),
    sendForm: $('send-form'),
    target: $('target-select'),
    messageInput: $('message-input'),
  };

  let socket = null;
  let retryMs = MIN_RETRY_MS;
  /** What the user asked to join; sent again after every reconnect. */
  let credentials = null;
  let myId = null;
  let users = new Map();

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    setStatus('connecting', 'connecting…');
    try {
      socket = new WebSocket(`${scheme}://${location.host}/`);
    } catch {
      setStatus('offline', 'cannot connect: open this page from the gateway');
      return;
    }
    socket.addEventListener('open', () => {
      retryMs = MIN_RETRY_MS;
      setStatus('online', 'connected');
      if (credentials) send({ type: 'login', ...credentials });
    });
    socket.addEventListener('message', (event) => {
      if (typeof event.data === 'string') receive(event.data);
    });
    socket.addEventListener('close', () => {
      socket = null;
      if (myId) addNote('Connection lost. Reconnecting…', 'error');
      myId = null;
      // Jitter keeps many pages from reconnecting in lockstep after a gateway restart.
      const delay = Math.round(retryMs * (0.75 + Math.random() * 0.5));
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      setStatus('offline', `offline, retrying in ${Math.ceil(delay / 1000)}s`);
      setTimeout(connect, delay);
    });
  }

  function send(message) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  function receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    switch (message.type) {
      case 'ping':
        send({ type: 'ping' });
        break;
      case 'login':
        if (Array.isArray(message.client_list)) joined(message);
        else {
          users.set(message.client_id, message.client_name);
          addNote(`${message.client_name} joined`, 'join', message.time);
          renderUsers();
        }
        break;
      case 'logout':
        if (users.delete(message.client_id)) renderUsers();
        addNote(`${message.client_name} left`, 'leave', message.time);
        break;
      case 'say':
        addMessage(message);
        break;
      case 'error':
        if (ui.chat.hidden) showLoginError(message.message);
        else addNote(`Error: ${message.message}`, 'error');
        break;
    }
  }

  /** Our own login answer: it carries the room's member list. */
  function joined(message) {
    const wasJoined = !ui.chat.hidden;
    myId = message.client_id;
    users = new Map(message.client_list.map((member) => [member.client_id, member.client_name]));
    ui.loginForm.hidden = true;
    showLoginError('');
    ui.chat.hidden = false;
    ui.roomLabel.hidden = false;
    ui.roomLabel.textContent = `# ${credentials.room}`;
    document.title = `${credentials.room} · GatewayCluster chat`;
    addNote(wasJoined ? 'Reconnected' : `You joined as ${message.client_name}`, 'join', message.time);
    renderUsers();
    ui.messageInput.focus();
  }

  function renderUsers() {
    const selected = ui.target.value;
    const sorted = [...users].sort((a, b) => a[1].localeCompare(b[1]));
    ui.users.replaceChildren();
    ui.target.replaceChildren(new Option('everyone', 'all'));
    for (const [id, name] of sorted) {
      const item = document.createElement('li');
      item.dataset.clientId = id;
      item.textContent = name;
      if (id === myId) {
        item.classList.add('me');
        item.append(Object.assign(document.createElement('span'), { className: 'you', textContent: ' (you)' }));
      } else {
        item.title = `Send a private message to ${name}`;
        item.addEventListener('click', () => {
          ui.target.value = id;
          ui.messageInput.focus();
        });
        ui.target.append(new Option(name, id));
      }
      ui.users.append(item);
    }
    ui.target.value = users.has(selected) && selected !== myId ? selected : 'all';
    ui.userCount.textContent = `(${users.size})`;
  }

  function addMessage(message) {
    const item = entry(message.time);
    const mine = message.from_client_id === myId;
    const isPrivate = message.to_client_id !== 'all';
    item.classList.add('message');
    item.classList.toggle('mine', mine);
    item.classList.toggle('private', isPrivate);
    const from = span('from', mine ? 'You' : message.from_client_name);
    item.append(from);
    if (isPrivate) item.append(span('to', mine ? `→ ${message.to_client_name}` : '→ you (private)'));
    item.append(span('content', message.content));
    append(item);
  }

  function addNote(text, kind, time) {
    const item = entry(time);
    item.classList.add('note', kind);
    item.append(span('content', text));
    append(item);
  }

  function entry(time) {
    const date = time ? new Date(time) : new Date();
    const when = Number.isNaN(date.getTime()) ? new Date() : date;
    const item = document.createElement('li');
    const stamp = document.createElement('time');
    stamp.dateTime = when.toISOString();
    stamp.title = when.toLocaleString();
    stamp.textContent = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    item.append(stamp);
    return item;
  }

  function span(className, text) {
    return Object.assign(document.createElement('span'), { className, textContent: text });
  }

  function append(item) {
    const list = ui.messages;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(item);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function showLoginError(text) {
    ui.loginError.textContent = text;
    ui.loginError.hidden = !text;
  }

  function setStatus(state, text) {
    ui.status.dataset.state = state;
    document.body.dataset.state = state;
    ui.status.textContent = text;
  }

  ui.loginForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = ui.nameInput.value.trim();
    const room = ui.roomInput.value.trim() || 'lobby';
    if (!name) return;
    credentials = { name, room };
    if (!send({ type: 'login', name, room })) setStatus('offline', 'not connected yet, will join when connected');
  });

  ui.sendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const content = ui.messageInput.value;
    if (!content.trim()) return;
    if (!send({ type: 'say', to: ui.target.value, content })) {
      addNote('Not connected: message not sent', 'error');
      return;
    }
    ui.messageInput.value = '';
  });

  connect();
})();
