import { FAULTS, FAULT_SPECS, checkHost, clearFault, injectFault, isFaultName, resetHost, type FaultHost } from './faults.js';
import { attachLab, startCount, startLab, DEFAULT_LAB_ROOT, type Lab, type LabHost } from './lab.js';

// `npm run lab`: start N lab hosts and keep them up until Ctrl-C; `npm run lab -- inject lab1 disk-full`
// and friends act on the running lab.

const USAGE = `usage:
  npm run lab [-- --hosts N] [--root DIR]     start N lab hosts (default 3) until Ctrl-C
  npm run lab -- inject <host> <fault>        inject a fault into a running lab host
  npm run lab -- clear <host> <fault|all>     clear one fault, or every fault
  npm run lab -- check <host>                 independent health check of a host
  npm run lab -- faults                       list the faults
faults: ${FAULTS.join(', ')}`;

/** The CMDB item (POST /api/v1/cmdb body) that registers a lab host. */
export function cmdbItemFor(
  host: Pick<LabHost, 'name' | 'address' | 'port' | 'service' | 'dataPath' | 'logPath' | 'configPath' | 'servicePort'>,
) {
  return {
    tagId: host.name,
    hostname: `${host.name}.infraai-lab.internal`,
    address: host.address,
    port: host.port,
    environment: 'test' as const,
    os: 'linux',
    description: 'InfraAI lab host (npm run lab)',
    sshUser: 'root',
    sshCredential: 'lab',
    serviceManager: 'supervisor' as const,
    tags: {
      service: host.service,
      dataPath: host.dataPath,
      logDir: host.logPath,
      configFile: host.configPath,
      servicePort: String(host.servicePort),
    },
  };
}

/** What `npm run lab` prints once the hosts are up. */
export function labSummary(
  lab: Pick<Lab, 'hosts' | 'clientKeyPath' | 'knownHostsPath' | 'startMs' | 'root'>,
  apiUrl = `http://localhost:${process.env.PORT || 8000}`,
): string {
  const lines = [`InfraAI lab: ${lab.hosts.length} host(s) up in ${(lab.startMs / 1000).toFixed(1)} s (root ${lab.root})`, ''];
  for (const host of lab.hosts) {
    lines.push(
      `${host.name}  ${host.address}:${host.port}  host key ${host.hostKeyFingerprint}  supervisor program ${host.service} on :${host.servicePort}`,
    );
  }
  lines.push(
    '',
    `client private key: ${lab.clientKeyPath}   (log in as root; known_hosts: ${lab.knownHostsPath})`,
    `  ssh -i ${lab.clientKeyPath} -o UserKnownHostsFile=${lab.knownHostsPath} root@${lab.hosts[0]?.address ?? '10.77.1.2'} supervisorctl status labsvc`,
    '',
    'register the hosts in the API: the private key as the SSH credential "lab", then one CMDB item per host:',
    'KEY=…   # printed by npm start, or your INFRAAI_API_KEY',
    `node -e 'console.log(JSON.stringify({ name: "lab", username: "root", privateKey: require("fs").readFileSync(process.argv[1], "utf8") }))' ${lab.clientKeyPath} \\\n  | curl -s -X POST ${apiUrl}/api/v1/credentials/ssh -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d @-`,
  );
  for (const host of lab.hosts) {
    lines.push(
      `curl -s -X POST ${apiUrl}/api/v1/cmdb -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \\\n  -d '${JSON.stringify(cmdbItemFor(host))}'`,
    );
  }
  lines.push(
    '',
    `inject a fault: npm run lab -- inject ${lab.hosts[0]?.name ?? 'lab1'} <fault>   (${FAULTS.join(', ')})`,
    'Ctrl-C stops the lab and deletes its namespaces.',
  );
  return lines.join('\n');
}

function parseStart(args: string[]): { hosts: number; root: string } {
  let hosts = 3;
  let root = DEFAULT_LAB_ROOT;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const value = () => {
      const next = inline ?? args[++i];
      if (next === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    if (flag === '--hosts') {
      hosts = Number(value());
      if (!Number.isInteger(hosts) || hosts < 1) throw new Error(`--hosts must be a positive integer\n${USAGE}`);
    } else if (flag === '--root') root = value();
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return { hosts, root };
}

function findHost(name: string): FaultHost {
  const lab = attachLab();
  const host = lab.hosts.find((h) => h.name === name || h.address === name);
  if (!host) throw new Error(`no lab host ${name}: the lab has ${lab.hosts.map((h) => h.name).join(', ')}`);
  return host;
}

async function serve(args: string[]): Promise<void> {
  const { hosts, root } = parseStart(args);
  console.log(`starting ${hosts} lab host(s) in ${root} …`);
  const lab = await startLab({ hosts, root, log: (line) => console.log(`  ${line}`) });
  console.log(`\n${labSummary(lab)}`);
  // Signal listeners do not keep Node alive: a timer does, until Ctrl-C.
  const keepAlive = setInterval(() => undefined, 60_000);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  clearInterval(keepAlive);
  console.log('\nstopping the lab …');
  await lab.stop();
}

export async function runLabCli(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--hosts':
    case '--root':
      return serve(argv);
    case 'start':
      return serve(rest);
    case 'faults':
      for (const fault of FAULTS) console.log(`${fault.padEnd(16)} ${FAULT_SPECS[fault].description}`);
      return;
    case 'inject':
    case 'clear': {
      const [hostName, fault] = rest;
      if (!hostName || !fault) throw new Error(USAGE);
      const host = findHost(hostName);
      if (command === 'clear' && fault === 'all') {
        await resetHost(host);
        console.log(`${hostName}: every fault cleared`);
        return;
      }
      if (!isFaultName(fault)) throw new Error(`unknown fault ${fault}; one of ${FAULTS.join(', ')}`);
      await (command === 'inject' ? injectFault(host, fault) : clearFault(host, fault));
      const health = await FAULT_SPECS[fault].check(host);
      console.log(
        `${hostName}: ${command === 'inject' ? 'injected' : 'cleared'} ${fault}; ${health.healthy ? 'healthy' : 'unhealthy'}: ${health.detail}`,
      );
      return;
    }
    case 'check': {
      const [hostName] = rest;
      if (!hostName) throw new Error(USAGE);
      const host = findHost(hostName);
      const health = await checkHost(host);
      console.log(
        `${hostName}: ${health.healthy ? 'healthy' : 'unhealthy'}: ${health.detail} (labsvc started ${await startCount(host)} time(s))`,
      );
      process.exitCode = health.healthy ? 0 : 1;
      return;
    }
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return;
    default:
      throw new Error(`unknown command ${command}\n${USAGE}`);
  }
}
