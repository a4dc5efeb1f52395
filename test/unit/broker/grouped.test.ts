import { describe, expect, it } from 'vitest'
import { Grouped } from '../../../src/broker/grouped.js'

describe('Grouped', () => {
  it('holds one value per key, then several, and goes back to one as they are deleted', () => {
    const grouped = new Grouped<string, string>()
    expect(grouped.get('f')).toEqual([])
    grouped.add('f', 'a')
    grouped.add('f', 'a')
    expect(grouped.get('f')).toEqual(['a'])
    grouped.add('f', 'b')
    grouped.add('f', 'c')
    expect(grouped.get('f')).toEqual(['a', 'b', 'c'])
    grouped.delete('f', 'b')
    grouped.delete('f', 'a')
    expect(grouped.get('f')).toEqual(['c'])
    grouped.add('f', 'd')
    expect(grouped.get('f')).toEqual(['c', 'd'])
    grouped.delete('f', 'x')
    grouped.delete('f', 'c')
    grouped.delete('f', 'd')
    expect(grouped.get('f')).toEqual([])
  })

  it('hands out a copy the caller may delete from while it goes through it', () => {
    const grouped = new Grouped<string, number>()
    for (const n of [1, 2, 3]) grouped.add('k', n)
    for (const n of grouped.get('k')) grouped.delete('k', n)
    expect(grouped.get('k')).toEqual([])
  })
})
