/**
 * `gatehouse check`: static analysis of a deployment for the seed's security hole and its
 * relatives, before anyone deploys it.
 *
 * - GH_CHECK_FORGEABLE_HEADER: an API trusts a header for identity (X-ARR-ClientCert, or any header
 *   a policy turns into a certificate) and some listener that routes to it neither sets nor removes it.
 * - GH_CHECK_ISSUER_DN_NOT_PINNED: an ssl profile uploads an intermediate CA but does not verify the
 *   issuer DN, so every other intermediate under the same root is accepted too.
 * - GH_CHECK_APIM_REACHABLE_DIRECTLY: API Management can be called without the gateway (External or
 *   no virtual network, or an NSG open to the Internet), so the forwarded header can be sent directly.
 * - GH_CHECK_UNVALIDATED_CERT_HEADER: a policy trusts a certificate from a header without checking
 *   its chain or comparing it with uploaded certificates.
 *
 * Each finding names the resource, the file:line where it is declared, why it matters and how to fix it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Diagnostic } from '../core/diagnostics.js';
import { defineCodes } from '../core/errors.js';
import type { ApplicationGatewayModel, HttpListener, RewriteRuleSet } from '../model/applicationGateway.js';
import { proxyHostNames, type ApiManagementModel, type ApimPolicyDocument } from '../model/apiManagement.js';
import type { ArmResource } from '../model/resources.js';
import { parseCertificates, type Certificate } from '../pki/index.js';

export const CheckCodes = defineCodes({
  GH_CHECK_FORGEABLE_HEADER: 'A listener routes to an API that trusts a client-certificate header, and neither sets nor removes that header.',
  GH_CHECK_CONDITIONAL_HEADER_REMOVAL: 'A rewrite rule removes a trusted header only under a condition.',
  GH_CHECK_PASSTHROUGH_FORWARDED: 'A Passthrough mTLS listener forwards a client certificate that the gateway did not verify.',
  GH_CHECK_ISSUER_DN_NOT_PINNED: 'An ssl profile trusts an intermediate CA without verifyClientCertIssuerDN, so every intermediate under its root is accepted.',
  GH_CHECK_APIM_REACHABLE_DIRECTLY: 'API Management trusts a forwarded certificate header but can be reached without the gateway.',
  GH_CHECK_UNVALIDATED_CERT_HEADER: 'A policy trusts a certificate from a header without validating its chain or its thumbprint.',
  GH_CHECK_PARTIAL_CERT_VALIDATION: 'A policy validates a forwarded certificate\'s chain or its identity, but not both.',
});

export interface CheckInput {
  readonly resources: readonly ArmResource[];
  readonly gateways: readonly ApplicationGatewayModel[];
  readonly services: readonly ApiManagementModel[];
  /** Private addresses (10.0.1.4) by the lower-cased id of the resource that owns them. */
  readonly privateAddresses: ReadonlyMap<string, readonly string[]>;
  /** The entry file, used when a resource has no origin. */
  readonly entry: string;
}

/** Header names that carry a client certificate by convention. */
const CONVENTIONAL_CERT_HEADERS = /^(x-arr-clientcert|x-client-cert|x-ssl-client-cert|ssl-client-cert|x-forwarded-client-cert|x-client-certificate|client-cert)$/i;

interface TrustedHeaderUse {
  readonly header: string;
  /** 'API client-cert-api, operation validate-from-agw' */
  readonly where: string;
  readonly policy: ApimPolicyDocument;
  readonly offset: number;
}

const headerReadRe = /Headers\s*(?:\.\s*(?:GetValueOrDefault|TryGetValue|ContainsKey)\s*(?:<[^>]*>)?\s*\(\s*|\[\s*)(?:@?"([^"]+)")/g;

/** Headers a policy reads and trusts as a certificate. */
function trustedHeaders(policy: ApimPolicyDocument, where: string): TrustedHeaderUse[] {
  const text = policy.value;
  const makesCertificate = /X509Certificate2|FromBase64String/.test(text);
  const out: TrustedHeaderUse[] = [];
  const seen = new Set<string>();
  for (const m of text.matchAll(headerReadRe)) {
    const header = m[1]!;
    if (seen.has(header.toLowerCase())) continue;
    if (CONVENTIONAL_CERT_HEADERS.test(header) || makesCertificate) {
      seen.add(header.toLowerCase());
      out.push({ header, where, policy, offset: m.index });
    }
  }
  return out;
}

function policiesOf(service: ApiManagementModel): { policy: ApimPolicyDocument; where: string; api?: string }[] {
  const out: { policy: ApimPolicyDocument; where: string; api?: string }[] = [];
  if (service.policy) out.push({ policy: service.policy, where: 'the global policy' });
  for (const p of service.products) if (p.policy) out.push({ policy: p.policy, where: `product ${p.name}` });
  for (const api of service.apis) {
    if (api.policy) out.push({ policy: api.policy, where: `API ${api.name}`, api: api.name });
    for (const op of api.operations) if (op.policy) out.push({ policy: op.policy, where: `API ${api.name}, operation ${op.name}`, api: api.name });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Locations

/** The text of the files a check reads, each read once per check. */
type FileTexts = (path: string) => string | undefined;

function fileTexts(): FileTexts {
  const cache = new Map<string, string | undefined>();
  return (path) => {
    if (!cache.has(path)) {
      try {
        cache.set(path, readFileSync(path, 'utf8'));
      } catch {
        cache.set(path, undefined);
      }
    }
    return cache.get(path);
  };
}

interface Location {
  file: string;
  line?: number;
  column?: number;
  sourceLine?: string;
}

function lineCol(text: string, offset: number): { line: number; column: number; sourceLine: string } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const start = before.lastIndexOf('\n') + 1;
  const end = text.indexOf('\n', offset);
  return { line, column: offset - start + 1, sourceLine: text.slice(start, end < 0 ? undefined : end).replace(/\r$/, '') };
}

/** Where `name: '<name>'` is written in the file (the declaration of a named child); without a name, or when it is not found, the resource's own position. */
function locateNamed(fileText: FileTexts, origin: { file: string; line?: number; column?: number } | undefined, fallback: string, name?: string): Location {
  const file = origin?.file ?? fallback;
  const text = name === undefined ? undefined : fileText(file);
  if (text && name !== undefined) {
    const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`["']?name["']?\\s*:\\s*["']${esc}["']`);
    const m = re.exec(text);
    if (m) return { file, ...lineCol(text, m.index) };
  }
  return { file, ...(origin?.line ? { line: origin.line, column: origin.column ?? 1 } : {}) };
}

function locatePolicy(fileText: FileTexts, use: { policy: ApimPolicyDocument; offset: number }): Location {
  const text = fileText(use.policy.file);
  if (text && text.includes(use.policy.value.slice(0, 200))) {
    const base = text.indexOf(use.policy.value.slice(0, 200));
    return { file: use.policy.file, ...lineCol(text, base + use.offset) };
  }
  return { file: use.policy.file, ...lineCol(use.policy.value, use.offset) };
}

function finding(severity: 'error' | 'warning', code: `GH_${string}`, at: Location, message: string, fix: string): Diagnostic {
  return {
    severity,
    code,
    message,
    file: at.file,
    ...(at.line !== undefined ? { line: at.line, column: at.column ?? 1 } : {}),
    ...(at.sourceLine !== undefined ? { sourceLine: at.sourceLine } : {}),
    hint: fix,
  };
}

// ------------------------------------------------------------------------------------------------
// Edge → API Management routes

function servicesBehind(gateway: ApplicationGatewayModel, poolName: string | undefined, settingsName: string | undefined, input: CheckInput): ApiManagementModel[] {
  const pool = gateway.backendAddressPools.find((p) => p.name === poolName);
  const settings = gateway.backendHttpSettingsCollection.find((s) => s.name === settingsName);
  return input.services.filter((svc) => {
    const hosts = proxyHostNames(svc);
    const ips = input.privateAddresses.get(svc.id.toLowerCase()) ?? [];
    if (settings?.hostName && hosts.includes(settings.hostName.toLowerCase())) return true;
    return (pool?.backendAddresses ?? []).some((a) => (a.ipAddress && ips.includes(a.ipAddress)) || (a.fqdn && hosts.includes(a.fqdn.toLowerCase())));
  });
}

interface Route {
  readonly rule: string;
  readonly listener: HttpListener;
  readonly rewriteRuleSet: RewriteRuleSet | undefined;
  readonly services: ApiManagementModel[];
}

function routesOf(gateway: ApplicationGatewayModel, input: CheckInput): Route[] {
  const routes: Route[] = [];
  const sets = new Map(gateway.rewriteRuleSets.map((s) => [s.name, s]));
  for (const rule of gateway.requestRoutingRules) {
    const listener = gateway.httpListeners.find((l) => l.name === rule.httpListener);
    if (!listener) continue;
    if (rule.ruleType === 'PathBasedRouting' && rule.urlPathMap) {
      const map = gateway.urlPathMaps.find((m) => m.name === rule.urlPathMap);
      if (!map) continue;
      routes.push({ rule: rule.name, listener, rewriteRuleSet: sets.get(map.defaultRewriteRuleSet ?? ''), services: servicesBehind(gateway, map.defaultBackendAddressPool, map.defaultBackendHttpSettings, input) });
      for (const pr of map.pathRules) {
        routes.push({ rule: `${rule.name} (path rule ${pr.name})`, listener, rewriteRuleSet: sets.get(pr.rewriteRuleSet ?? ''), services: servicesBehind(gateway, pr.backendAddressPool ?? map.defaultBackendAddressPool, pr.backendHttpSettings ?? map.defaultBackendHttpSettings, input) });
      }
    } else {
      routes.push({ rule: rule.name, listener, rewriteRuleSet: sets.get(rule.rewriteRuleSet ?? ''), services: servicesBehind(gateway, rule.backendAddressPool, rule.backendHttpSettings, input) });
    }
  }
  return routes;
}

type HeaderEffect = { kind: 'untouched' } | { kind: 'removed'; conditional: boolean } | { kind: 'set'; value: string; conditional: boolean };

function effectOn(set: RewriteRuleSet | undefined, header: string): HeaderEffect {
  let effect: HeaderEffect = { kind: 'untouched' };
  for (const rule of set?.rewriteRules ?? []) {
    for (const h of rule.actionSet.requestHeaderConfigurations) {
      if (h.headerName.toLowerCase() !== header.toLowerCase()) continue;
      const conditional = rule.conditions.length > 0;
      effect = h.headerValue === '' ? { kind: 'removed', conditional } : { kind: 'set', value: h.headerValue, conditional };
    }
  }
  return effect;
}

function mtlsMode(gateway: ApplicationGatewayModel, listener: HttpListener): 'none' | 'Strict' | 'Passthrough' {
  const profile = gateway.sslProfiles.find((p) => p.name === listener.sslProfile);
  if (!profile || (profile.trustedClientCertificates.length === 0 && profile.clientAuthConfiguration?.verifyClientAuthMode !== 'Passthrough')) return 'none';
  return profile.clientAuthConfiguration?.verifyClientAuthMode ?? 'Strict';
}

function listenerKind(mode: 'none' | 'Strict' | 'Passthrough'): string {
  return mode === 'none' ? 'no client certificate' : mode === 'Strict' ? 'mTLS' : 'mTLS Passthrough: certificate not verified';
}

// ------------------------------------------------------------------------------------------------

function safeParse(data: string, origin: string): Certificate[] {
  try {
    return parseCertificates(data, { origin });
  } catch {
    return [];
  }
}

function otherIntermediatesNear(fileText: FileTexts, root: Certificate, pinned: readonly Certificate[], files: readonly string[]): { cert: Certificate; file: string }[] {
  const dirs = new Set(files.map((f) => dirname(f)));
  const found = new Map<string, { cert: Certificate; file: string }>();
  for (const dir of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!/\.(cer|crt|pem)$/i.test(name)) continue;
      const text = fileText(join(dir, name));
      if (!text) continue;
      for (const c of safeParse(text, name)) {
        if (c.isCA && !c.isSelfIssued && c.issuer === root.subject && !pinned.some((p) => p.thumbprint === c.thumbprint) && !found.has(c.thumbprint)) {
          try {
            if (c.x509.verify(root.x509.publicKey)) found.set(c.thumbprint, { cert: c, file: join(dir, name) });
          } catch {
            // not signed by this root
          }
        }
      }
    }
  }
  return [...found.values()];
}

export function checkDeployment(input: CheckInput, options: { files?: readonly string[] } = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const fileText = fileTexts();

  // Which headers each service trusts, and how its policies validate them.
  const trusted = new Map<ApiManagementModel, TrustedHeaderUse[]>();
  for (const svc of input.services) {
    const uses: TrustedHeaderUse[] = [];
    for (const { policy, where } of policiesOf(svc)) {
      const found = trustedHeaders(policy, where);
      uses.push(...found);
      for (const use of found) {
        const text = policy.value;
        const chain = /\.Verify(NoRevocation)?\s*\(|<validate-client-certificate|\.Build\s*\(/.test(text);
        const identity = /Thumbprint|Deployment\s*\.\s*Certificates|<identity\b/.test(text);
        if (!chain && !identity) {
          out.push(finding('error', CheckCodes.GH_CHECK_UNVALIDATED_CERT_HEADER, locatePolicy(fileText, use),
            `${svc.name}: ${where} trusts the certificate in ${use.header} without validating its chain or comparing it with an uploaded certificate: any well-formed certificate passes`,
            `validate it: certificate.Verify() (or VerifyNoRevocation()) and context.Deployment.Certificates.Any(c => c.Value.Thumbprint == certificate.Thumbprint)`));
        } else if (!chain || !identity) {
          out.push(finding('warning', CheckCodes.GH_CHECK_PARTIAL_CERT_VALIDATION, locatePolicy(fileText, use),
            `${svc.name}: ${where} checks the certificate in ${use.header} ${chain ? 'for a trusted chain but not against uploaded certificates (any certificate under the trusted CAs passes)' : 'against uploaded certificates but not its chain or validity (an expired certificate passes)'}`,
            chain ? 'compare the thumbprint with context.Deployment.Certificates, or list identities in validate-client-certificate' : 'also call certificate.Verify() or VerifyNoRevocation()'));
        }
      }
    }
    if (uses.length) trusted.set(svc, uses);
  }

  // Every route from a listener to a service that trusts a header must set or remove it.
  const routedServices = new Set<ApiManagementModel>();
  for (const gateway of input.gateways) {
    for (const route of routesOf(gateway, input)) {
      const mode = mtlsMode(gateway, route.listener);
      for (const svc of route.services) {
        routedServices.add(svc);
        for (const use of trusted.get(svc) ?? []) {
          const effect = effectOn(route.rewriteRuleSet, use.header);
          const at = locateNamed(fileText, gateway.origin, input.entry, route.rule.replace(/ \(path rule (.*)\)$/, ''));
          const subject = `${gateway.name}: routing rule '${route.rule}' (listener '${route.listener.name}', ${listenerKind(mode)})`;
          if (effect.kind === 'untouched') {
            out.push(finding('error', CheckCodes.GH_CHECK_FORGEABLE_HEADER, at,
              `${subject} routes to ${svc.name}, where ${use.where} trusts ${use.header}, but neither sets nor removes that header: a client can send its own ${use.header} and be taken for the holder of that certificate`,
              mode === 'none'
                ? `link a rewrite rule set to '${route.rule}' that removes the header: requestHeaderConfigurations: [{ headerName: '${use.header}', headerValue: '' }]`
                : `link a rewrite rule set to '${route.rule}' that sets it: requestHeaderConfigurations: [{ headerName: '${use.header}', headerValue: '{var_client_certificate}' }]`));
          } else if (effect.conditional) {
            out.push(finding('warning', CheckCodes.GH_CHECK_CONDITIONAL_HEADER_REMOVAL, at,
              `${subject}: the rewrite rule set '${route.rewriteRuleSet?.name}' ${effect.kind === 'removed' ? 'removes' : 'sets'} ${use.header} only when its conditions hold; otherwise a forged value reaches ${svc.name}`,
              `make the rule that ${effect.kind === 'removed' ? 'removes' : 'sets'} ${use.header} unconditional`));
          } else if (effect.kind === 'set' && mode === 'Passthrough' && /client_certificate/i.test(effect.value)) {
            out.push(finding('warning', CheckCodes.GH_CHECK_PASSTHROUGH_FORWARDED, at,
              `${subject} forwards the client certificate in ${use.header}, but in Passthrough mode the gateway does not verify it: ${svc.name} must validate the chain itself`,
              `use verifyClientAuthMode 'Strict', or make sure the policy validates the chain (certificate.Verify())`));
          }
        }
      }
    }
  }

  // Issuer DN pinning.
  for (const gateway of input.gateways) {
    for (const profile of gateway.sslProfiles) {
      if (profile.clientAuthConfiguration?.verifyClientCertIssuerDN) continue;
      const certs = profile.trustedClientCertificates.flatMap((name) => {
        const t = gateway.trustedClientCertificates.find((c) => c.name === name);
        return t ? safeParse(t.data, t.path) : [];
      });
      const intermediates = certs.filter((c) => c.isCA && !c.isSelfIssued);
      const roots = certs.filter((c) => c.isSelfIssued);
      if (intermediates.length === 0 || roots.length === 0) continue;
      const root = roots[0]!;
      const others = otherIntermediatesNear(fileText, root, intermediates, options.files ?? []);
      const named = others.length ? ` — for example ${others.map((o) => `'${o.cert.subject}' (${o.file})`).join(', ')}` : '';
      out.push(finding('error', CheckCodes.GH_CHECK_ISSUER_DN_NOT_PINNED, locateNamed(fileText, gateway.origin, input.entry, profile.name),
        `${gateway.name}: ssl profile '${profile.name}' uploads the intermediate '${intermediates.map((c) => c.subject).join("', '")}' but does not verify the client certificate's issuer DN, so a client certificate from any other intermediate under '${root.subject}' is accepted too${named}`,
        `set clientAuthConfiguration.verifyClientCertIssuerDN: true on '${profile.name}'`));
    }
  }

  // API Management must not be reachable around the gateway when it trusts a forwarded header.
  for (const svc of input.services) {
    if (!trusted.has(svc) || !routedServices.has(svc)) continue;
    const header = trusted.get(svc)![0]!.header;
    const resource = input.resources.find((r) => r.id.toLowerCase() === svc.id.toLowerCase());
    const origin = (resource as { origin?: { file: string; line?: number; column?: number } } | undefined)?.origin;
    const at = locateNamed(fileText, origin, input.entry);
    if (svc.virtualNetworkType !== 'Internal') {
      out.push(finding('error', CheckCodes.GH_CHECK_APIM_REACHABLE_DIRECTLY, at,
        `${svc.name}: virtualNetworkType is '${svc.virtualNetworkType}', so callers can reach API Management without the gateway and send ${header} themselves`,
        `deploy API Management with virtualNetworkType 'Internal' behind the gateway, or authenticate the gateway (e.g. a separate host name for gateway traffic)`));
      continue;
    }
    const subnetId = ((resource?.properties as { virtualNetworkConfiguration?: { subnetResourceId?: string } } | undefined)?.virtualNetworkConfiguration?.subnetResourceId ?? '').toLowerCase();
    for (const nsg of openNsgRules(input.resources, subnetId)) {
      out.push(finding('error', CheckCodes.GH_CHECK_APIM_REACHABLE_DIRECTLY, locateNamed(fileText, (nsg.resource as { origin?: { file: string } }).origin, input.entry, nsg.rule),
        `${svc.name}: network security group '${nsg.resource.name}' rule '${nsg.rule}' allows ${nsg.source} to reach API Management's subnet on port ${nsg.ports}, so callers can bypass the gateway and send ${header} themselves`,
        `allow inbound 443 to API Management only from the gateway's subnet (sourceAddressPrefix: the gateway subnet prefix)`));
    }
  }
  return out;
}

function portsInclude(range: string, port: number): boolean {
  if (range === '*') return true;
  return range.split(',').some((part) => {
    const [a, b] = part.trim().split('-').map(Number);
    return b === undefined ? a === port : a! <= port && port <= b;
  });
}

function openNsgRules(resources: readonly ArmResource[], subnetId: string): { resource: ArmResource; rule: string; source: string; ports: string }[] {
  if (!subnetId) return [];
  const nsgIds = new Set<string>();
  for (const r of resources) {
    if (!/^Microsoft\.Network\/virtualNetworks$/i.test(r.type)) continue;
    for (const s of ((r.properties as { subnets?: { name: string; properties?: { networkSecurityGroup?: { id?: string } } }[] })?.subnets ?? [])) {
      if (subnetId.endsWith(`/subnets/${s.name}`.toLowerCase()) && subnetId.startsWith(r.id.toLowerCase()) && s.properties?.networkSecurityGroup?.id) nsgIds.add(s.properties.networkSecurityGroup.id.toLowerCase());
    }
  }
  const out: { resource: ArmResource; rule: string; source: string; ports: string }[] = [];
  for (const r of resources) {
    if (!/^Microsoft\.Network\/networkSecurityGroups$/i.test(r.type) || !nsgIds.has(r.id.toLowerCase())) continue;
    for (const rule of ((r.properties as { securityRules?: { name: string; properties?: Record<string, unknown> }[] })?.securityRules ?? [])) {
      const p = rule.properties ?? {};
      const sources = [p.sourceAddressPrefix, ...((p.sourceAddressPrefixes as string[] | undefined) ?? [])].filter((x): x is string => typeof x === 'string');
      const ports = [p.destinationPortRange, ...((p.destinationPortRanges as string[] | undefined) ?? [])].filter((x): x is string => typeof x === 'string');
      const open = sources.find((s) => s === '*' || /^internet$/i.test(s) || s === '0.0.0.0/0');
      if (p.access === 'Allow' && p.direction === 'Inbound' && open && ports.some((pr) => portsInclude(pr, 443))) {
        out.push({ resource: r, rule: rule.name, source: open === '*' ? 'any source' : open, ports: ports.join(', ') });
      }
    }
  }
  return out;
}
