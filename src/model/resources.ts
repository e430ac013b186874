/**
 * The input every front-end produces: resources as ARM shows them after evaluation (Bicep,
 * ARM JSON, or a JSON file of resources). The resource adapters (src/config/resources) turn these
 * into the typed model that the runtimes consume.
 */
export interface ArmResource {
  /** 'Microsoft.Network/applicationGateways', 'Microsoft.ApiManagement/service/apis' … */
  readonly type: string;
  /** The full name, with parents for child resources: 'apim/client-cert-api'. */
  readonly name: string;
  readonly apiVersion?: string;
  /** The resource id as resourceId() would produce it. */
  readonly id: string;
  readonly location?: string;
  readonly sku?: Record<string, unknown>;
  readonly properties?: Record<string, unknown>;
  readonly [other: string]: unknown;
}

/** Where a resource was declared, for diagnostics (the Bicep or JSON file and its position). */
export interface ResourceOrigin {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
}

/** Default subscription and resource group of a local deployment (the values resourceId() uses). */
export const LOCAL_SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000000';
export const LOCAL_RESOURCE_GROUP = 'gatehouse-local';

/** `/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{childType}/{childName}…]` */
export function resourceIdOf(type: string, name: string, subscriptionId = LOCAL_SUBSCRIPTION_ID, resourceGroup = LOCAL_RESOURCE_GROUP): string {
  const [ns, ...types] = type.split('/');
  const names = name.split('/');
  let id = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${ns}`;
  types.forEach((t, i) => (id += `/${t}/${names[i] ?? ''}`));
  return id;
}

/** Parses an id into its type and name segments; undefined when it is not a resource id. */
export function parseResourceId(id: string): { subscriptionId: string; resourceGroup: string; type: string; name: string } | undefined {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/(.+)$/i.exec(id);
  if (!m) return undefined;
  const parts = m[4]!.split('/');
  if (parts.length % 2 !== 0) return undefined;
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    types.push(parts[i]!);
    names.push(parts[i + 1]!);
  }
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, type: `${m[3]}/${types.join('/')}`, name: names.join('/') };
}
