/**
 * `LinkedMap`: a map that knows its oldest entry in O(1), for bounded caches and tables that evict
 * in insertion (or last-use) order: the brute-force guard's address table, `RedisStore`'s record
 * cache. V8's `Map` keeps insertion order too, but finding its first entry after many deletions
 * walks over every deleted slot until the table is rehashed — about 10 µs per eviction at 10,000
 * entries, paid on every insert by a cache under a flood of made-up ids. Here the order is a
 * doubly linked list beside the `Map`, so `set`, `touch`, `delete` and `shift` are all O(1).
 */

interface Node<K, V> {
  key: K
  value: V
  older: Node<K, V> | null
  newer: Node<K, V> | null
}

export class LinkedMap<K, V> {
  private readonly nodes = new Map<K, Node<K, V>>()
  private oldestNode: Node<K, V> | null = null
  private newestNode: Node<K, V> | null = null

  get size(): number {
    return this.nodes.size
  }

  has(key: K): boolean {
    return this.nodes.has(key)
  }

  get(key: K): V | undefined {
    return this.nodes.get(key)?.value
  }

  /** Sets `key` to `value` as the newest entry (moving it to the back if present). */
  set(key: K, value: V): void {
    const node = this.nodes.get(key)
    if (node === undefined) {
      const created: Node<K, V> = { key, value, older: null, newer: null }
      this.nodes.set(key, created)
      this.append(created)
      return
    }
    node.value = value
    this.moveToBack(node)
  }

  /** Makes `key` the newest entry, if present. */
  touch(key: K): void {
    const node = this.nodes.get(key)
    if (node !== undefined) this.moveToBack(node)
  }

  delete(key: K): boolean {
    const node = this.nodes.get(key)
    if (node === undefined) return false
    this.nodes.delete(key)
    this.unlink(node)
    return true
  }

  /** The oldest entry's key, or `undefined` when empty. */
  oldestKey(): K | undefined {
    return this.oldestNode?.key
  }

  /** The oldest entry's value, or `undefined` when empty. */
  oldestValue(): V | undefined {
    return this.oldestNode?.value
  }

  /** Removes the oldest entry; returns its key, or `undefined` when empty. */
  shift(): K | undefined {
    const node = this.oldestNode
    if (node === null) return undefined
    this.nodes.delete(node.key)
    this.unlink(node)
    return node.key
  }

  clear(): void {
    this.nodes.clear()
    this.oldestNode = null
    this.newestNode = null
  }

  /** Entries from oldest to newest. Do not change the map while iterating. */
  *entries(): IterableIterator<[K, V]> {
    for (let node = this.oldestNode; node !== null; node = node.newer) yield [node.key, node.value]
  }

  private append(node: Node<K, V>): void {
    node.older = this.newestNode
    node.newer = null
    if (this.newestNode === null) this.oldestNode = node
    else this.newestNode.newer = node
    this.newestNode = node
  }

  private unlink(node: Node<K, V>): void {
    if (node.older === null) this.oldestNode = node.newer
    else node.older.newer = node.newer
    if (node.newer === null) this.newestNode = node.older
    else node.newer.older = node.older
    node.older = null
    node.newer = null
  }

  private moveToBack(node: Node<K, V>): void {
    if (this.newestNode === node) return
    this.unlink(node)
    this.append(node)
  }
}
