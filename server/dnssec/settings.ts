// The `dnssec` config section as the signer runs with it.

import * as defaults from '../config/defaults.ts'
import type { DnssecConfig } from '../config/schema.ts'
import type { DnssecSettings } from './sign-zone.ts'

const DAY_S = 86_400

export function dnssecSettings(config: DnssecConfig): DnssecSettings {
  const validityS = (config.signature_validity_days ?? defaults.DEFAULT_SIGNATURE_VALIDITY_DAYS) * DAY_S
  return Object.freeze({
    // Made again when a quarter of the validity is left; expiry spread over a tenth of it.
    times: Object.freeze({ validityS, refreshS: Math.floor(validityS / 4), jitterS: Math.floor(validityS / 10) }),
    dnskeyTtl: config.dnskey_ttl ?? defaults.DEFAULT_DNSKEY_TTL,
    publishCds: config.publish_cds ?? false,
    cacheSize: config.signature_cache ?? defaults.DEFAULT_SIGNATURE_CACHE,
  })
}
