/** Users of the bundled chat handler, as tests make them. */
import { WsTestClient } from './test-clients.js';

export interface ChatUser {
  client: WsTestClient;
  /** The id the cluster gave the connection (the login answer's client_id). */
  clientId: string;
}

/** A WebSocket to `url` (a gateway pod, or the client Service), logged in to `room` as `name`. */
export async function chatLogin(url: string, name: string, room = 'lobby'): Promise<ChatUser> {
  const client = await WsTestClient.open(url);
  client.send(JSON.stringify({ type: 'login', name, room }));
  try {
    const login = await client.nextJson<{ client_id: string }>('login', 10_000);
    return { client, clientId: login.client_id };
  } catch (error) {
    client.close();
    throw new Error(`${name} could not log in at ${url} (received: ${JSON.stringify(client.inbox)}, closed: ${client.closed}): ${(error as Error).message}`);
  }
}

/** chatLogin's client alone. */
export async function chatter(url: string, name: string): Promise<WsTestClient> {
  return (await chatLogin(url, name)).client;
}
