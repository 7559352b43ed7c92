// For case 6: node-cron as the daemon uses it, with the poll schedule's task started. Its
// matcher reads every date through Intl.DateTimeFormat, which maps ICU's data into the
// process: a cost of running node-cron, not of importing it.

import { createTask } from 'node-cron';

const task = createTask('*/15 * * * * *', () => undefined);
task.start();
// The worker reads the RSS and exits; the task's timer must not keep it alive.
setTimeout(() => task.stop(), 250).unref();
