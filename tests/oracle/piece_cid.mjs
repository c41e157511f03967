// Prints, for each file argument, one JSON line with the piece CIDs computed by
// @web3-storage/data-segment: {"file", "v1" (baga...), "v2" (bafkzcib...), "padded_size", "padding"}.
// Used by the sealhost oracle test as an independent implementation of commP.
import { readFile } from 'node:fs/promises'
import { Piece } from '@web3-storage/data-segment'

for (const file of process.argv.slice(2)) {
  const bytes = new Uint8Array(await readFile(file))
  const piece = Piece.fromPayload(bytes)
  console.log(
    JSON.stringify({
      file,
      v1: piece.toInfo().link.toString(),
      v2: piece.link.toString(),
      padded_size: Number(piece.size),
      padding: Number(piece.padding),
    })
  )
}
