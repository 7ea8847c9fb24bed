// Types of scripts/build-dashboard.mjs (plain JavaScript so that `npm start` needs no loader).
export declare const DEFAULT_OUT_DIR: string;
export declare function dashboardIsStale(outDir?: string): boolean;
/** Builds into outDir; returns the size of each file written, in bytes. */
export declare function buildDashboard(outDir?: string): Promise<Record<'app.js' | 'app.css' | 'index.html', number>>;
