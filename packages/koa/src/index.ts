export {
  type ApiKeyAuthOptions,
  apiKeyAuth,
  type KeywardContext,
  type KeywardState,
  type RequireScopesOptions,
  requireScopes,
} from './api-key-auth.ts'
