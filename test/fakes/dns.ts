/**
 * A tiny DNS server on 127.0.0.1 (UDP, node:dgram) for rebinding tests: it answers each A
 * query for a name with the next address of that name's script (the last one repeats), and
 * counts the queries. Answers carry TTL 0, as a rebinding attacker's would.
 */
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';

export interface FakeDns {
  /** `127.0.0.1:<port>`, for `Resolver.setServers`. */
  server: string;
  /** Queries received, by name (lower case). */
  queries: Map<string, number>;
  /** Resolves A records through this server only (never the system's resolver). */
  resolve(host: string): Promise<string[]>;
  close(): Promise<void>;
}

/** The question's name and the byte offset just past its QTYPE and QCLASS. */
function readQuestion(msg: Buffer): { name: string; end: number; type: number } {
  const labels: string[] = [];
  let offset = 12;
  for (let len = msg[offset]!; len !== 0; len = msg[offset]!) {
    labels.push(msg.subarray(offset + 1, offset + 1 + len).toString('ascii'));
    offset += 1 + len;
  }
  const type = msg.readUInt16BE(offset + 1);
  return { name: labels.join('.').toLowerCase(), end: offset + 5, type };
}

function answer(query: Buffer, address: string | undefined): Buffer {
  const { end, type } = readQuestion(query);
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  const give = address !== undefined && type === 1;
  header.writeUInt16BE(give ? 0x8180 : 0x8183, 2); // response, recursion; NXDOMAIN without an answer
  header.writeUInt16BE(1, 4); // one question
  header.writeUInt16BE(give ? 1 : 0, 6);
  const question = query.subarray(12, end);
  if (!give) return Buffer.concat([header, question]);
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc00c, 0); // the question's name
  record.writeUInt16BE(1, 2); // A
  record.writeUInt16BE(1, 4); // IN
  record.writeUInt32BE(0, 6); // TTL 0
  record.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, i) => {
    record[12 + i] = Number(octet);
  });
  return Buffer.concat([header, question, record]);
}

export async function startFakeDns(script: Record<string, string[]>): Promise<FakeDns> {
  const queries = new Map<string, number>();
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const { name } = readQuestion(msg);
    const n = queries.get(name) ?? 0;
    queries.set(name, n + 1);
    const addresses = script[name];
    const reply = answer(msg, addresses?.[Math.min(n, addresses.length - 1)]);
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const server = `127.0.0.1:${(socket.address() as AddressInfo).port}`;
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([server]);
  return {
    server,
    queries,
    resolve: (host) => resolver.resolve4(host),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
