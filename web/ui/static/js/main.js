// The page's entry point. Everything else is a module without side effects
// at import time, so that tests can load the modules outside a browser.
import { start } from './app.js';

start();
