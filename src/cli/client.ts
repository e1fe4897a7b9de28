/** The CLI's HTTP client for the management API: finds the server, sends JSON, turns problems into messages. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export function serverUrl(flag: string | undefined): string {
  return (flag ?? process.env.BERTH_SERVER ?? 'http://localhost:5000').replace(/\/+$/, '');
}

export async function callApi<T>(server: string, method: string, path: string, body?: unknown): Promise<T | undefined> {
  let response: Response;
  try {
    response = await fetch(`${server}/mgmt/v1${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new CliError(`cannot reach the Berth server at ${server}: ${(error as Error).cause ?? (error as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const problem = JSON.parse(text) as { title?: string; detail?: string };
      message = problem.detail ?? problem.title ?? message;
    } catch {
      // not a problem document; keep the status line
    }
    throw new CliError(message);
  }
  return text ? (JSON.parse(text) as T) : undefined;
}
