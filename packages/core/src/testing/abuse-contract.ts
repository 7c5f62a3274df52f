/**
 * The abuse part of the `KeyStore` contract, run by `describeStoreContract` for a store that has
 * `abuse` (docs/architecture.md, "Abuse signals"): counters and sets add up across calls and stay
 * apart per signal, subject and window; a key's minutes add up and its baseline sums the right
 * ones; a window is claimed once, even by concurrent callers; state past its expiry starts over;
 * histories keep the newest events, capped, per key and for the installation. Each case works on
 * its own subjects, so cases never see each other's state.
 */
import { expect, it } from 'vitest'
import type { AbuseEvent, AbuseKind } from '../abuse/abuse-model.ts'
import type { AbuseState, AbuseWindow } from '../store/abuse-interface.ts'
import type { KeyStore } from '../store/interface.ts'

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const BASE = Date.UTC(2026, 0, 1)

let unique = 0
/** A subject unique to this run, storable as a key id. */
function uniqueId(): string {
  unique += 1
  return `a${Date.now().toString(36)}${unique.toString(36)}`
}

function window(signal: AbuseKind, subject: string, start = BASE, length = HOUR_MS): AbuseWindow {
  return { signal, subject, windowStart: start, expiresAt: start + length }
}

function wrongSecretEvent(keyId: string, timestamp: number): AbuseEvent {
  return {
    type: 'abuse',
    kind: 'wrong-secret',
    keyId,
    ownerId: 'org_contract',
    attempts: 10,
    threshold: 10,
    windowStart: BASE,
    windowMs: HOUR_MS,
    quarantined: false,
    timestamp,
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function describeAbuseContract(getStore: () => KeyStore): void {
  const state = (): AbuseState => {
    const abuse = getStore().abuse
    if (abuse === undefined) throw new Error('the store has no `abuse`')
    return abuse
  }

  it('abuse: adds counters up across calls, apart per signal, subject and window', async () => {
    const [a, b] = [uniqueId(), uniqueId()]
    const counts = [
      { ...window('wrong-secret', a), amount: 3 },
      { ...window('wrong-secret', a, BASE + HOUR_MS), amount: 1 },
      { ...window('wrong-secret', b), amount: 2 },
    ]
    expect(await state().tally({ now: BASE, counts, sets: [], rates: [] })).toEqual({
      counts: [3, 1, 2],
      sets: [],
      rates: [],
    })
    const again = await state().tally({
      now: BASE,
      counts: [{ ...window('wrong-secret', a), amount: 4 }],
      sets: [],
      rates: [],
    })
    expect(again.counts).toEqual([7])
  })

  it('abuse: adds set members up as a union and answers each set’s size', async () => {
    const subject = uniqueId()
    const first = await state().tally({
      now: BASE,
      counts: [],
      sets: [
        { ...window('many-networks', subject), members: ['10.0.1.0/24', '10.0.2.0/24'] },
        { ...window('many-networks', uniqueId()), members: ['2001:db8::/64'] },
      ],
      rates: [],
    })
    expect(first.sets).toEqual([2, 1])
    const second = await state().tally({
      now: BASE,
      counts: [],
      sets: [{ ...window('many-networks', subject), members: ['10.0.2.0/24', '10.0.3.0/24'] }],
      rates: [],
    })
    expect(second.sets).toEqual([3])
  })

  it('abuse: adds a key’s requests per minute and sums its baseline over [baselineFrom, minute)', async () => {
    const [keyId, other] = [uniqueId(), uniqueId()]
    const minute = (index: number) => BASE + index * MINUTE_MS
    const rate = (id: string, index: number, amount: number, baselineFrom: number | null = null) => ({
      keyId: id,
      minute: minute(index),
      amount,
      baselineFrom,
      expiresAt: minute(index) + 10 * MINUTE_MS,
    })
    await state().tally({
      now: BASE,
      counts: [],
      sets: [],
      rates: [
        rate(keyId, 0, 100),
        rate(keyId, 1, 1),
        rate(keyId, 2, 2),
        rate(keyId, 3, 3),
        rate(other, 3, 50),
      ],
    })
    const result = await state().tally({
      now: minute(4),
      counts: [],
      sets: [],
      rates: [rate(keyId, 4, 5, minute(1)), rate(keyId, 4, 5), rate(other, 4, 1, minute(0))],
    })
    expect(result.rates).toEqual([
      { total: 5, baseline: 6 },
      { total: 10, baseline: null },
      { total: 1, baseline: 50 },
    ])
  })

  it('abuse: claims a window once, for one of many concurrent callers, and each window apart', async () => {
    const subject = uniqueId()
    const claims = await Promise.all(
      Array.from({ length: 20 }, () => state().claim([window('spike', subject)], BASE)),
    )
    expect(claims.flat().filter(Boolean)).toHaveLength(1)
    expect(
      await state().claim(
        [window('spike', subject), window('spike', subject, BASE + HOUR_MS), window('wrong-secret', subject)],
        BASE,
      ),
    ).toEqual([false, true, true])
  })

  it('abuse: takes any subject text — a client address as the application described it', async () => {
    const subject = `proxy {${uniqueId()}} 10.0.0.1, 10.0.0.2`
    const counts = [{ ...window('failed-burst', subject), amount: 2 }]
    expect((await state().tally({ now: BASE, counts, sets: [], rates: [] })).counts).toEqual([2])
    expect((await state().tally({ now: BASE, counts, sets: [], rates: [] })).counts).toEqual([4])
    expect(await state().claim([window('failed-burst', subject)], BASE)).toEqual([true])
    expect(await state().claim([window('failed-burst', subject)], BASE)).toEqual([false])
  })

  it('abuse: starts over once a window’s state has expired', async () => {
    const subject = uniqueId()
    const short = window('wrong-secret', subject, BASE, 50)
    expect(
      (await state().tally({ now: BASE, counts: [{ ...short, amount: 2 }], sets: [], rates: [] })).counts,
    ).toEqual([2])
    expect(await state().claim([short], BASE)).toEqual([true])
    await sleep(120)
    const later = BASE + 120
    expect(
      (
        await state().tally({
          now: later,
          counts: [{ ...short, amount: 1, expiresAt: later + 50 }],
          sets: [],
          rates: [],
        })
      ).counts,
    ).toEqual([1])
    expect(await state().claim([{ ...short, expiresAt: later + 50 }], later)).toEqual([true])
  })

  it('abuse: keeps the newest events per key and for the installation, capped and within the retention', async () => {
    const [keyId, other] = [uniqueId(), uniqueId()]
    const limits = { size: 3, retentionMs: HOUR_MS }
    for (let index = 0; index < 5; index++) {
      await state().remember(wrongSecretEvent(keyId, BASE + index), limits, BASE + index)
    }
    await state().remember(wrongSecretEvent(other, BASE + 10), limits, BASE + 10)
    const mine = await state().recent({ keyId, limit: 10, since: BASE })
    expect(mine.map((event) => event.timestamp)).toEqual([BASE + 4, BASE + 3, BASE + 2])
    expect(mine[0]).toEqual(wrongSecretEvent(keyId, BASE + 4))
    expect((await state().recent({ keyId, limit: 2, since: BASE })).map((event) => event.timestamp)).toEqual([
      BASE + 4,
      BASE + 3,
    ])
    expect(
      (await state().recent({ keyId, limit: 10, since: BASE + 4 })).map((event) => event.timestamp),
    ).toEqual([BASE + 4])
    const everyone = await state().recent({ keyId: null, limit: 3, since: BASE })
    expect(everyone[0]).toEqual(wrongSecretEvent(other, BASE + 10))
    expect(await state().recent({ keyId: uniqueId(), limit: 10, since: BASE })).toEqual([])
  })
}
