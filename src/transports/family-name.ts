/**
 * The protocol family of an adapter as metrics label it, from the adapter's function name:
 * `espAtAdapter` → `esp-at`, `catalogResources` → `catalog-resources`, `stm32Updates` → `stm32-updates`.
 */
export function familyName(adapter: { name: string }): string {
  return (
    adapter.name
      .replace(/Adapter$/, '')
      .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
      .toLowerCase() || 'unknown'
  );
}
