// How a download's sizes are written (decimal units, as the hub lists files): one formatter for
// the client's messages, the command line and the extension. No imports: the extension and
// the CLI bundles take it without any network code.

export function sizeText(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(bytes >= 1e8 ? 0 : 1)} MB`;
  return `${Math.round(bytes / 1e3)} kB`;
}
