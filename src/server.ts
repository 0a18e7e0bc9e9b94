import { bootstrap } from './bootstrap.js';
import { AppError } from './core/app-error.js';
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
  let endDrain: (() => void) | undefined;
  const stop = async (signal: string) => {
    if (stopping) {
      endDrain?.(); // a second signal cuts the drain short
      return;
    }
    stopping = true;
    runtime.stopping();
    if (config.shutdownDrainMs > 0) {
      // /readyz answers 503 from now on, so that a load balancer stops sending here, while the
      // listener still accepts and serves whatever arrives until it does.
      logger.info({ signal, drainMs: config.shutdownDrainMs }, 'shutting down: draining (not ready, still serving)');
      await new Promise<void>((resolve) => {
        endDrain = resolve;
        setTimeout(resolve, config.shutdownDrainMs).unref();
      });
    }
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    // Requests get the shutdown timeout to finish. Then the connections still open (a client
    // still sending, a request still waiting) are closed, and the store is closed in order all
    // the same: what was acknowledged is already in the database, and the snapshots are written.
    // Only if that too takes another timeout does the process exit without it.
    const cut = setTimeout(() => {
      logger.warn('requests did not finish within the shutdown timeout; closing their connections');
      app.server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, 2 * config.shutdownTimeoutMs);
    cut.unref();
    force.unref();
    try {
      await app.close();
      clearTimeout(cut);
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
  // The service's own errors say what is wrong in one line; anything else comes with its stack.
  if (err instanceof AppError) console.error(`spotter could not start: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
