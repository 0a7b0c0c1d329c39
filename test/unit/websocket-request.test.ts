import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { websocketRequest } from '../../runtime/worker/websocket-request.js';

describe('the upgrade request a handler gets', () => {
  it('has the query parsed, the last of a repeated parameter winning', () => {
    assert.deepEqual(websocketRequest('/chat?token=abc&room=1&room=2&empty=&sp=a%20b', {}).query, { token: 'abc', room: '2', empty: '', sp: 'a b' });
    assert.deepEqual(websocketRequest('/', {}).query, {});
  });

  it('has the cookies parsed: percent-decoded, quotes removed, the first of a repeated name; junk skipped', () => {
    const { cookies } = websocketRequest('/', { cookie: 'sid=s%3A1; theme="dark"; sid=second; =nameless; flag; bad=%E0%A4%A' });
    assert.deepEqual(cookies, { sid: 's:1', theme: 'dark', bad: '%E0%A4%A' });
    assert.deepEqual(websocketRequest('/', {}).cookies, {});
  });
});
