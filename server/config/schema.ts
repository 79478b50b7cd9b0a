// The signpost.yaml schema: the single source for validation (ajv) and for the Config type.

import type { JSONSchemaType } from 'ajv'

export type Config = {
  /** DNS listen addresses, `ADDRESS:PORT` (IPv6 as `[ADDRESS]:PORT`). */
  listen?: string[]
  /** Zone folder, relative to the config file. */
  zones?: string
  admin?: { listen?: string }
  tcp?: { idle_timeout_ms?: number; max_connections?: number }
  log?: { level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'; queries?: boolean }
}

export const configSchema: JSONSchemaType<Config> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: { type: 'array', items: { type: 'string', format: 'listen-address' }, minItems: 1, nullable: true },
    zones: { type: 'string', minLength: 1, nullable: true },
    admin: {
      type: 'object',
      additionalProperties: false,
      nullable: true,
      properties: { listen: { type: 'string', format: 'listen-address', nullable: true } },
    },
    tcp: {
      type: 'object',
      additionalProperties: false,
      nullable: true,
      properties: {
        idle_timeout_ms: { type: 'integer', minimum: 100, maximum: 3600000, nullable: true },
        max_connections: { type: 'integer', minimum: 1, maximum: 100000, nullable: true },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      nullable: true,
      properties: {
        level: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], nullable: true },
        queries: { type: 'boolean', nullable: true },
      },
    },
  },
}
