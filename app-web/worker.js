// The training worker: the page's own module, loaded again off the page's thread (see worker.rs).
import init, { worker_start } from './amr_web.js';

await init();
worker_start();
