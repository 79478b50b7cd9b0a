// GSLB configuration checked against the zones: every problem names signpost.yaml's line and field.

import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../server/config/load-config.ts'
import { buildGslb } from '../../../server/gslb/build.ts'
import { formatProblem } from '../../../server/common/problem.ts'
import { zoneSet } from '../../../server/zone/zone-set.ts'
import { zoneFromText } from '../../support/zone-text.ts'

const ZONE = '$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.10\nwww A 192.0.2.20\nalias CNAME www\n'

function problems(yaml: string): string[] {
  const zone = zoneFromText('b.test.', ZONE)
  const config = parseConfig('/z/signpost.yaml', yaml)
  if (!config.ok) return config.problems.map(formatProblem)
  const result = buildGslb(config.config, zoneSet([zone]), config.locate)
  return result.ok ? [] : result.problems.map(formatProblem)
}

const SITES = 'sites:\n  a: { vips: [192.0.2.10], location: { lat: 1, lon: 2 } }\n  b: { vips: [192.0.2.20] }\n'

describe('GSLB config problems', () => {
  it('accepts a good config', () => {
    expect(problems(`${SITES}names:\n  www.b.test.: { policy: weighted, weights: { a: 3 } }\n`)).toEqual([])
  })

  it.each([
    ['an address of the RRset in no site', 'sites:\n  a: { vips: [192.0.2.10] }\nnames:\n  www.b.test.:\n    policy: all\n', '/z/signpost.yaml:4: names.www.b.test.: address 192.0.2.20 in /z/b.test.zone belongs to no site (list it under a site\'s vips) [config]'],
    ['a name in no served zone', `${SITES}names:\n  www.example.org.: { policy: all }\n`, '/z/signpost.yaml:5: names.www.example.org.: is in no zone being served [config]'],
    ['a name with no A/AAAA of its own', `${SITES}names:\n  alias.b.test.: { policy: all }\n`, '/z/signpost.yaml:5: names.alias.b.test.: has no A or AAAA records of its own in zone file /z/b.test.zone (GSLB names choose among them) [config]'],
    ['an unknown site in weights', `${SITES}names:\n  www.b.test.:\n    policy: weighted\n    weights: { c: 1 }\n`, "/z/signpost.yaml:7: names.www.b.test..weights.c: no site named 'c' [config]"],
    ['failover without order', `${SITES}names:\n  www.b.test.:\n    policy: failover\n`, "/z/signpost.yaml:6: names.www.b.test..policy: failover needs 'order': the groups of sites, first choice first [config]"],
    ['nearest with a site that has no location', `${SITES}geoip: { database: x.mmdb }\nnames:\n  www.b.test.:\n    policy: nearest\n`, '/z/signpost.yaml:7: names.www.b.test..policy: nearest needs a location for site b [config]'],
    ['a VIP in two sites', 'sites:\n  a: { vips: [192.0.2.10] }\n  b: { vips: [192.0.2.10, 192.0.2.20] }\n', '/z/signpost.yaml:3: sites.b.vips: 192.0.2.10 is already a VIP of site a [config]'],
    ['a fallback that is neither site nor address', `${SITES}names:\n  www.b.test.:\n    policy: all\n    when_down: fallback\n    fallback: nowhere\n`, "/z/signpost.yaml:8: names.www.b.test..fallback: 'nowhere' is neither a site nor an IP address [config]"],
    ['return_below not below shed_above', `${SITES}names:\n  www.b.test.:\n    policy: all\n    load: { mode: shed, shed_above: 0.8, return_below: 0.8 }\n`, '/z/signpost.yaml:7: names.www.b.test..load.return_below: must be below shed_above (0.8): the gap between them keeps a site at the watermark from flapping [config]'],
    ['a shed key on a scale name', `${SITES}names:\n  www.b.test.:\n    policy: all\n    load: { mode: scale, shed_above: 0.8 }\n`, "/z/signpost.yaml:7: names.www.b.test..load: 'shed_above' and 'return_below' apply to mode shed only [config]"],
  ])('%s', (_name, yaml, expected) => {
    expect(problems(yaml)).toEqual([expected])
  })

  it.each([
    ['a bad VIP', "sites:\n  tokyo:\n    vips: ['10.0.0.300']\n", "/z/signpost.yaml:3: sites.tokyo.vips.0: '10.0.0.300' is not an IP address [config]"],
    ['an unknown key', 'sites:\n  a:\n    vips: [192.0.2.10]\n    wieght: 3\n', '/z/signpost.yaml:4: sites.a.wieght: unknown key (a typo?) [config]'],
    ['an unknown policy', `${SITES}names:\n  www.b.test.:\n    policy: random\n`, "/z/signpost.yaml:6: names.www.b.test..policy: 'random' is not one of weighted, failover, nearest, all [config]"],
    ['a TTL above the cap', `${SITES}names:\n  www.b.test.:\n    policy: all\n    ttl: 3600\n`, '/z/signpost.yaml:7: names.www.b.test..ttl: 3600 must be <= 300 [config]'],
    ['a missing policy', `${SITES}names:\n  www.b.test.:\n    ttl: 30\n`, "/z/signpost.yaml:5: names.www.b.test..policy: 'policy' is required [config]"],
    ['a haproxy load signal without its proxy', 'sites:\n  a:\n    vips: [192.0.2.10]\n    load: { type: haproxy, stats_url: "http://{node}:8404/stats;csv" }\n', "/z/signpost.yaml:4: sites.a.load.proxy: 'proxy' is required [config]"],
    ['an http_json load signal with a haproxy key', 'sites:\n  a:\n    vips: [192.0.2.10]\n    load: { type: http_json, url: "http://x/load", proxy: web }\n', '/z/signpost.yaml:4: sites.a.load.proxy: unknown key (a typo?) [config]'],
  ])('schema: %s', (_name, yaml, expected) => {
    expect(problems(yaml)).toContain(expected)
  })
})
