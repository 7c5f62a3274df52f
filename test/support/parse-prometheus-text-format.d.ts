// The package ships no types; `prometheus-text.ts` types what it returns.
declare module 'parse-prometheus-text-format' {
  const parsePrometheusTextFormat: (text: string) => unknown
  export default parsePrometheusTextFormat
}
