// `npm run lab` (bring the lab up, print how to use it) and `npm run lab:down` (remove it all).

import { ADMIN_TOKEN, CLIENT, down, ensureLabPackages, ETCD_ENDPOINTS, isRoot, LAB_DIR, NS1, NS2, NS3, SITES, up } from './lab.ts'

const command = process.argv[2]
if (!isRoot()) {
  process.stderr.write('the lab makes network namespaces: run it as root\n')
  process.exit(1)
}
if (command === 'down') {
  down()
  process.stdout.write('lab removed: every lab-* namespace and the processes in it\n')
} else {
  ensureLabPackages()
  await up()
  process.stdout.write(`lab is up (logs and configs in ${LAB_DIR})

  resolve through unbound:  ip netns exec lab-client dig @127.0.0.1 www.example.test
  ask ns1 / ns2 directly:   ip netns exec lab-client dig @${NS1} www.example.test   (ns2: ${NS2}; ns3, probe-only: ${NS3})
  nearest site with ECS:    ip netns exec lab-client dig @${NS1} geo.example.test +subnet=81.2.69.142/32
  admin API (ns1):          ip netns exec lab-client curl http://${NS1}:8053/v1/status
  disable a site:           ip netns exec lab-client curl -X PUT http://${NS1}:8053/v1/sites/tokyo/state \\
                              -H 'Authorization: Bearer ${ADMIN_TOKEN}' -H 'Content-Type: application/json' \\
                              -d '{"state":"disabled","reason":"try it"}'
  the fleet:                ip netns exec lab-client curl http://${NS1}:8053/v1/fleet
  its etcd:                 ip netns exec lab-client etcdctl --endpoints=${ETCD_ENDPOINTS.join(',')} get --prefix /signpost/lab --keys-only
  fail a site's MASTER LB:  ip netns exec lab-tokyo-lb1 ip link set eth0 down
  sites and VIPs:           ${SITES.map((s) => `${s.name} ${s.vip}`).join(', ')}; the client is ${CLIENT}

  npm run lab:down removes everything.
`)
}
