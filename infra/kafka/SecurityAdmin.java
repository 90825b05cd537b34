// Applies a security plan to a Kafka cluster with the Java admin client: SCRAM credentials
// (AlterUserScramCredentials) and ACLs (CreateAcls; optionally DeleteAcls for a managed principal's
// bindings that the plan no longer has). The Node client the services use has neither call, so
// services/cli/provisionAcls.ts computes the plan and runs this file from source on the stack's
// Kafka jars (`infra/stack/kafka-secure.sh java infra/kafka/SecurityAdmin.java ...`).
//
//   java -cp 'libs/*' SecurityAdmin.java --bootstrap HOST:PORT --command-config FILE [--prune]  < plan
//
// Plan lines (tab-separated; passwords only ever on stdin, never in arguments or output):
//   scram <TAB> user <TAB> SCRAM-SHA-512|SCRAM-SHA-256 <TAB> iterations <TAB> password
//   acl <TAB> principal <TAB> TOPIC|GROUP|TRANSACTIONAL_ID|CLUSTER <TAB> LITERAL|PREFIXED <TAB> name <TAB> OPERATION
// Creating an ACL that exists is a no-op and upserting a credential replaces it: applying a plan twice
// leaves the cluster as applying it once. Prints one summary line.
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

public class SecurityAdmin {
  public static void main(String[] args) throws Exception {
    String bootstrap = null, commandConfig = null;
    boolean prune = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--bootstrap": bootstrap = args[++i]; break;
        case "--command-config": commandConfig = args[++i]; break;
        case "--prune": prune = true; break;
        default: throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (bootstrap == null) throw new IllegalArgumentException("--bootstrap is required");
    Properties props = new Properties();
    if (commandConfig != null) try (FileInputStream in = new FileInputStream(commandConfig)) { props.load(in); }
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");

    List<UserScramCredentialAlteration> credentials = new ArrayList<>();
    Set<AclBinding> wanted = new LinkedHashSet<>();
    Set<String> principals = new HashSet<>();
    BufferedReader reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = reader.readLine()) != null; ) {
      if (line.isBlank()) continue;
      String[] f = line.split("\t", -1);
      if (f[0].equals("scram") && f.length == 5) {
        ScramMechanism mechanism = ScramMechanism.fromMechanismName(f[2]);
        if (mechanism == ScramMechanism.UNKNOWN) throw new IllegalArgumentException("unknown SCRAM mechanism " + f[2]);
        credentials.add(new UserScramCredentialUpsertion(f[1], new ScramCredentialInfo(mechanism, Integer.parseInt(f[3])), f[4]));
      } else if (f[0].equals("acl") && f.length == 6) {
        ResourcePattern pattern = new ResourcePattern(ResourceType.fromString(f[2]), f[4], PatternType.fromString(f[3]));
        AclOperation operation = AclOperation.fromString(f[5]);
        if (pattern.resourceType() == ResourceType.UNKNOWN || pattern.patternType() == PatternType.UNKNOWN || operation == AclOperation.UNKNOWN) {
          throw new IllegalArgumentException("bad ACL line: " + String.join(" ", java.util.Arrays.copyOf(f, 6)));
        }
        wanted.add(new AclBinding(pattern, new AccessControlEntry(f[1], "*", operation, AclPermissionType.ALLOW)));
        principals.add(f[1]);
      } else {
        throw new IllegalArgumentException("bad plan line starting with " + f[0]);
      }
    }

    try (Admin admin = Admin.create(props)) {
      if (!credentials.isEmpty()) admin.alterUserScramCredentials(credentials).all().get();
      if (!wanted.isEmpty()) admin.createAcls(wanted).all().get();
      int pruned = 0;
      if (prune) {
        List<AclBindingFilter> stale = new ArrayList<>();
        for (String principal : principals) {
          AclBindingFilter byPrincipal = new AclBindingFilter(ResourcePatternFilter.ANY,
              new AccessControlEntryFilter(principal, null, AclOperation.ANY, AclPermissionType.ANY));
          for (AclBinding existing : admin.describeAcls(byPrincipal).values().get()) {
            if (!wanted.contains(existing)) stale.add(existing.toFilter());
          }
        }
        if (!stale.isEmpty()) pruned = admin.deleteAcls(stale).all().get().size();
      }
      System.out.println("credentials upserted: " + credentials.size() + ", ACLs in the plan: " + wanted.size()
          + " (created if missing), ACLs pruned: " + pruned);
    }
  }
}
