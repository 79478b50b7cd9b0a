// Once per test run: the Debian tools the tests drive (dig, kdig, named-checkzone, promtool).

import { ensureDebianPackages } from './debian.ts'

export default function setup(): void {
  ensureDebianPackages({ dig: 'bind9-dnsutils', kdig: 'knot-dnsutils', 'named-checkzone': 'bind9-utils', promtool: 'prometheus', openssl: 'openssl' })
}
