// Config → what to probe: every VIP of a site that has a `check`, and each node of its LB pair.

import type { CheckConfig, Config } from '../config/schema.ts'
import * as defaults from './defaults.ts'
import type { ProbeSpec, ProbeTarget, RiseFall } from './types.ts'

export function probeTargets(config: Config): ProbeTarget[] {
  const targets: ProbeTarget[] = []
  for (const [site, siteConfig] of Object.entries(config.sites ?? {})) {
    const check = siteConfig.check === undefined ? undefined : config.checks?.[siteConfig.check]
    if (!check) continue
    const spec = probeSpec(check)
    const rules = riseFall(check)
    for (const address of siteConfig.vips) targets.push({ id: `server ${address} ${JSON.stringify(check)}`, kind: 'server', address, site, node: undefined, probe: spec, rules })
    const lbCheck = siteConfig.lb_check === undefined ? undefined : config.checks?.[siteConfig.lb_check]
    // Without an lb_check the nodes get a TCP connect to the check's port; ICMP and exec checks have no port, and are run on the nodes as they are.
    const lbSpec: ProbeSpec = lbCheck ? probeSpec(lbCheck) : 'port' in spec ? { type: 'tcp', port: spec.port } : spec
    const lbRules = lbCheck ? riseFall(lbCheck) : rules
    for (const [node, address] of Object.entries(siteConfig.lb_pair ?? {})) {
      targets.push({ id: `lb-node ${site}/${node} ${address} ${JSON.stringify(lbCheck ?? spec)}`, kind: 'lb-node', address, site, node, probe: lbSpec, rules: lbRules })
    }
  }
  return targets
}

function riseFall(check: CheckConfig): RiseFall {
  return {
    intervalMs: check.interval_ms ?? defaults.DEFAULT_INTERVAL_MS,
    timeoutMs: check.timeout_ms ?? defaults.DEFAULT_TIMEOUT_MS,
    rise: check.rise ?? defaults.DEFAULT_RISE,
    fall: check.fall ?? defaults.DEFAULT_FALL,
    recheckMs: check.recheck_ms ?? defaults.DEFAULT_RECHECK_MS,
  }
}

function probeSpec(check: CheckConfig): ProbeSpec {
  if (check.type === 'icmp') return { type: 'icmp' }
  if (check.type === 'exec') return { type: 'exec', command: check.command ?? [] }
  const port = check.port ?? defaults.DEFAULT_PORT[check.type]
  switch (check.type) {
    case 'tcp':
      return { type: 'tcp', port }
    case 'http':
    case 'https':
      return { type: check.type, port, method: check.method ?? 'GET', path: check.path ?? '/', host: check.host, status: check.status ?? [200], body: check.body, verifyTls: check.tls_verify ?? true }
    case 'dns':
      return { type: 'dns', port, query: check.query ?? '.', qtype: check.qtype ?? 'A', expect: check.expect }
  }
}
