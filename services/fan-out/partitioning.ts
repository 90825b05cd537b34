// Which partition a key lands on: the same murmur2 rule the producers use (KafkaJS's default
// partitioner, identical to the Java client's), so a partition's owner can pick out its devices.
import { Partitioners } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();
const layouts = new Map<number, Array<{ partitionId: number; leader: number }>>();

export function partitionOfKey(key: string, partitions: number): number {
  let partitionMetadata = layouts.get(partitions);
  if (!partitionMetadata) {
    partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }));
    layouts.set(partitions, partitionMetadata);
  }
  return partitioner({ topic: '', partitionMetadata: partitionMetadata as never, message: { key, value: null } });
}
