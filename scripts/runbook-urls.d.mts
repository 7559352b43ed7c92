// Types of scripts/runbook-urls.mjs, for the TypeScript that imports it.
export declare const DEFAULT_RUNBOOK_URL_BASE: string;
export declare function checkRunbookUrlBase(base: string): string;
