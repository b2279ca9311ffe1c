"""The GraphQL API: Strawberry schema, resolvers and the ASGI app."""
