// Types of scripts/runbook-urls.mjs, for the tests that import it.
export declare const DEFAULT_RUNBOOK_URL_BASE: string;
export declare function checkRunbookUrlBase(base: string): string;
export declare function runbookUrlsOf(ruleFile: unknown): { alert: string; url: string | undefined }[];
export declare function rebaseRunbookUrls(text: string, base?: string): string;
