// Once per test run: the Debian tools the tests drive (dig, kdig, named-checkzone, promtool, etcd
// for the fleet tests, haproxy for the load tests, named for cookie interoperability), so no test's own time limit has to cover an apt-get.

import { ensureDebianPackages } from './debian.ts'

export default function setup(): void {
  ensureDebianPackages({ dig: 'bind9-dnsutils', kdig: 'knot-dnsutils', 'named-checkzone': 'bind9-utils', named: 'bind9', promtool: 'prometheus', openssl: 'openssl', etcd: 'etcd-server', etcdctl: 'etcd-client', haproxy: 'haproxy' })
}
