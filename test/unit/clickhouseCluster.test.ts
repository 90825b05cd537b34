// The archive's DDL for a ClickHouse cluster (CLICKHOUSE_CLUSTER), from the real DDL file: every
// table replicated ON CLUSTER, the TTL change too; and the setting refused where it cannot work.
import fs from 'node:fs';
import path from 'node:path';
import { ddlStatements, forCluster } from '../../services/shared/archive';
import { ConfigError, loadConfig } from '../../services/shared/config';
import { REPO_ROOT } from '../../services/shared/paths';

const statements = ddlStatements(fs.readFileSync(path.join(REPO_ROOT, 'infra', 'clickhouse', 'archive.sql'), 'utf8'));

describe('archive DDL on a cluster', () => {
  it('creates every table ON CLUSTER as a ReplicatedReplacingMergeTree keyed in Keeper by table, with the same version column', () => {
    const creates = statements.filter((s) => s.includes('CREATE TABLE'));
    expect(creates.length).toBeGreaterThanOrEqual(2);
    for (const statement of creates) {
      const table = /CREATE TABLE IF NOT EXISTS (\w+)/.exec(statement)![1];
      const clustered = forCluster(statement, 'srv_cluster');
      expect(clustered).toContain(`CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER 'srv_cluster'`);
      expect(clustered).toContain(`ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/${table}', '{replica}', archivedAt)`);
      expect(clustered).not.toMatch(/ENGINE = ReplacingMergeTree/);
      // Everything else (columns, ordering key, partitioning, TTL) is the single-node DDL's.
      expect(clustered.replace(/ ON CLUSTER 'srv_cluster'/, '').replace(/Replicated(ReplacingMergeTree)\('[^']+', '\{replica\}', /, '$1(')).toBe(statement);
    }
  });

  it('changes the TTL ON CLUSTER, and leaves other statements alone', () => {
    expect(forCluster('ALTER TABLE visibility_archive MODIFY TTL toDateTime(eventTime) + INTERVAL 93 DAY', 'c1')).toBe(
      "ALTER TABLE visibility_archive ON CLUSTER 'c1' MODIFY TTL toDateTime(eventTime) + INTERVAL 93 DAY",
    );
    expect(forCluster('SELECT 1', 'c1')).toBe('SELECT 1');
  });

  it('refuses CLICKHOUSE_CLUSTER without a server, or with a name that is not one', () => {
    expect(() => loadConfig({ CLICKHOUSE_CLUSTER: 'c1' })).toThrow(ConfigError);
    expect(() => loadConfig({ CLICKHOUSE_CLUSTER: 'c1' })).toThrow('needs CLICKHOUSE_URL');
    expect(() => loadConfig({ CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_CLUSTER: "c1' OR 1" })).toThrow('must be a cluster name');
    expect(loadConfig({ CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_CLUSTER: 'c1' }).clickhouseCluster).toBe('c1');
    expect(loadConfig({}).clickhouseCluster).toBeUndefined();
  });
});
