import { buildApp } from 'fauxqs';

// fauxqs (npm, in-memory SQS/SNS/S3 emulator) as a server process of its own, bound to loopback only
// (its own CLI listens on every interface). Prints `listening <port>` once it answers.

const app = buildApp({ logger: false });
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.FAUXQS_PORT ?? 0) });
console.log(`listening ${new URL(address).port}`);
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
