// ts-server.mjs -- the official TypeScript SDK (@modelcontextprotocol/sdk
// 1.32.2) serving one "echo" tool over Streamable HTTP, for bench/compare:
// the same tool as plugins/bench.c in mcpd.
//
//	node ts-server.mjs PORT stateless|stateful
//
// stateless: a new server and transport for every request (the SDK's
// documented stateless pattern); stateful: one session per client, kept by
// Mcp-Session-Id.  Answers are JSON (enableJsonResponse), as mcpd's are.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from
    "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

const port = Number(process.argv[2]);
const mode = process.argv[3] ?? "stateless";

function makeServer() {
  const s = new McpServer({ name: "ts-bench", version: "1" });
  s.registerTool("echo", {
    description: "Answers its text argument",
    inputSchema: { text: z.string() },
  }, async ({ text }) => ({ content: [{ type: "text", text }] }));
  return s;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on("data", (c) => parts.push(c));
    req.on("end", () => {
      try {
        resolve(parts.length ? JSON.parse(Buffer.concat(parts)) : undefined);
      } catch (e) {
        reject(e);
      }
    });
    req.on("error", reject);
  });
}

const sessions = new Map();

const srv = http.createServer(async (req, res) => {
  try {
    const body = req.method === "POST" ? await readBody(req) : undefined;
    if (mode === "stateless") {
      const server = makeServer();
      const t = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on("close", () => { t.close(); server.close(); });
      await server.connect(t);
      await t.handleRequest(req, res, body);
      return;
    }
    const sid = req.headers["mcp-session-id"];
    let t = sid ? sessions.get(sid) : undefined;
    if (!t) {
      t = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(), enableJsonResponse: true,
        onsessioninitialized: (id) => sessions.set(id, t) });
      t.onclose = () => { if (t.sessionId) sessions.delete(t.sessionId); };
      await makeServer().connect(t);
    }
    await t.handleRequest(req, res, body);
  } catch (e) {
    if (!res.headersSent) {
      res.writeHead(500).end(String(e));
    }
  }
});
srv.keepAliveTimeout = 60000;
srv.listen(port, "127.0.0.1", () => console.log(`ts-server ${mode} :${port}`));
