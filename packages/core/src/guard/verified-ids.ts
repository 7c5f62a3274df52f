/**
 * Key ids this process has verified recently (docs/architecture.md, "Brute-force guard"): a key
 * already seen working keeps working from an address an attacker got blocked (a NAT, a shared
 * proxy). Two generations of sets approximate an LRU at the price of a `Set.has` per request: an id
 * used in the current generation or the one before is kept, a new generation starts every
 * `max / 2` new ids, so at most `max` are held and an id in steady use never drops out.
 */
export class VerifiedIds {
  private current = new Set<string>()
  private previous = new Set<string>()
  private readonly generationSize: number

  constructor(max: number) {
    this.generationSize = Math.max(1, Math.floor(max / 2))
  }

  has(id: string): boolean {
    return this.current.has(id) || this.previous.has(id)
  }

  add(id: string): void {
    if (this.current.has(id)) return
    this.current.add(id)
    if (this.current.size >= this.generationSize) {
      this.previous = this.current
      this.current = new Set()
    }
  }

  get size(): number {
    return this.current.size + this.previous.size
  }
}
