/**
 * Where abuse-signal state lives in Redis (docs/architecture.md, "Abuse signals"). Everything about one
 * subject — a key id, or a client network for `failed-burst` — shares one of `ABUSE_SHARDS`
 * hash-tag scopes `{ab:<shard>}`, picked by the subject, so one script call per scope adds a
 * process's observations; the installation's event history lives in `{ab:all}`. Key names hold
 * public key ids and client networks only.
 */

import { createHash } from 'node:crypto'
import type { AbuseKind, AbuseWindow } from '@keyward/core/store'
import { hashSlot } from './cluster-slots.ts'

/** Scopes subjects are spread over, as usage spreads key series. */
export const ABUSE_SHARDS = 64

const SIGNAL_CODE: Readonly<Record<AbuseKind, string>> = {
  'wrong-secret': 'ws',
  'many-networks': 'mn',
  spike: 'sp',
  'failed-burst': 'fb',
}

/** Key ids, and IPv4 / IPv6 networks in canonical text: nothing that could reach into a hash tag. */
const SUBJECT = /^[0-9A-Za-z_.:/-]{1,128}$/

export function isStorableSubject(subject: unknown): subject is string {
  return typeof subject === 'string' && SUBJECT.test(subject)
}

/**
 * A subject as it appears in key names: itself when it is a key id or a network, else (a client
 * address the application described in its own words) its hash, so braces or spaces never reach
 * a key name.
 */
function nameOf(subject: string): string {
  return isStorableSubject(subject) ? subject : `#${createHash('sha256').update(subject).digest('base64url')}`
}

export class AbuseLayout {
  constructor(private readonly prefix: string) {}

  /** The hash-tagged scope of a subject. */
  scope(subject: string): string {
    return `${this.prefix}{ab:${hashSlot(nameOf(subject)) % ABUSE_SHARDS}}`
  }

  /** String counter of one signal, subject and window (wrong secrets). */
  counter(window: AbuseWindow): string {
    return `${this.scope(window.subject)}:c:${SIGNAL_CODE[window.signal]}:${nameOf(window.subject)}:${window.windowStart}`
  }

  /** Set of one signal, subject and window (client networks). */
  set(window: AbuseWindow): string {
    return `${this.scope(window.subject)}:s:${SIGNAL_CODE[window.signal]}:${nameOf(window.subject)}:${window.windowStart}`
  }

  /** Hash minute start → requests of one key. */
  rate(keyId: string): string {
    return `${this.scope(keyId)}:r:${keyId}`
  }

  /** The claim of one window (`SET NX PX`): whoever sets it emits the signal. */
  claim(window: AbuseWindow): string {
    return `${this.scope(window.subject)}:claim:${SIGNAL_CODE[window.signal]}:${nameOf(window.subject)}:${window.windowStart}`
  }

  /** List of a key's recent events (JSON, newest first); `null`: the installation's. */
  history(keyId: string | null): string {
    return keyId === null ? `${this.prefix}{ab:all}:h` : `${this.scope(keyId)}:h:${keyId}`
  }
}
