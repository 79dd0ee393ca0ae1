/**
 * A request to the API as a tenant's user: the bearer token, the tenant header, and a JSON
 * body (a string is sent as it is, so a test can send what is not JSON).
 */
export function tenantRequest(
  url: string,
  token: string,
  tenant: string,
  method: string,
  body?: unknown,
): Promise<Response> {
  return fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'x-tenant-id': tenant,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}
