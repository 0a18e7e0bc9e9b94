import { bootstrap } from './bootstrap.js';
import { ConfigError, loadConfig } from './config/config.js';
import { buildApp } from './http/app.js';

/** Starts the service: configuration from the environment, models, galleries, HTTP. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const runtime = await bootstrap(config);
  const app = await buildApp(runtime);
  const { logger } = runtime;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    try {
      await app.close();
      await runtime.dispose();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  await app.listen({ host: config.host, port: config.port });
  void runtime.warmUp();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
