// The one way the page talks to covgraph: POST /graphql, with errors turned into ApiError.

/** An answer the page cannot use; `code` is the API's extensions.code (or NETWORK / HTTP). */
export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

/** How many GraphQL requests this page has sent (the tests read it). */
export const stats = { requests: 0 };

/** Runs a GraphQL query and returns its data; any error in the answer is thrown. */
export async function gql(query, variables, signal) {
  stats.requests += 1;
  let response;
  try {
    response = await fetch("graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query, variables: variables || {} }),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(`The covgraph API cannot be reached (${error.message}).`, "NETWORK", 0);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(
      `The covgraph API answered HTTP ${response.status} without a GraphQL result.`,
      "HTTP",
      response.status,
    );
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    const code = (first.extensions && first.extensions.code) || "ERROR";
    throw new ApiError(first.message, code, response.status);
  }
  if (!response.ok || !body.data) {
    throw new ApiError(`The covgraph API answered HTTP ${response.status}.`, "HTTP", response.status);
  }
  return body.data;
}
