// Waits until a broker answers a metadata request and lists at least one live node, i.e. it is
// registered and unfenced, so topics can be created right away. Run in source-file mode:
//   java -cp 'JARS/*' Ready.java BOOTSTRAP BROKER_PID TIMEOUT_SECONDS CLIENT_PROPERTIES
// CLIENT_PROPERTIES: the client's security settings (the kafka role's admin-client.properties).
// Exit status: 0 ready, 1 timed out, 2 the broker process ended, 64 usage.
import java.io.FileReader;
import java.io.IOException;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

public class Ready {
    public static void main(String[] args) throws InterruptedException, IOException {
        if (args.length != 4) {
            System.err.println("usage: Ready BOOTSTRAP BROKER_PID TIMEOUT_SECONDS CLIENT_PROPERTIES");
            System.exit(64);
        }
        String bootstrap = args[0];
        long brokerPid = Long.parseLong(args[1]);
        Instant deadline = Instant.now().plusSeconds(Long.parseLong(args[2]));

        Properties config = new Properties();
        try (FileReader properties = new FileReader(args[3])) {
            config.load(properties);
        }
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
        config.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        String lastError = "no answer yet";
        try (Admin admin = Admin.create(config)) {
            while (Instant.now().isBefore(deadline)) {
                if (!ProcessHandle.of(brokerPid).map(ProcessHandle::isAlive).orElse(false)) {
                    System.err.println("broker process " + brokerPid + " ended");
                    System.exit(2);
                }
                try {
                    int nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(3000))
                            .nodes().get(4, TimeUnit.SECONDS).size();
                    if (nodes > 0) {
                        return;
                    }
                    lastError = "broker answers but lists no live node yet";
                } catch (Exception e) {
                    lastError = e.toString();
                }
                Thread.sleep(300);
            }
        }
        System.err.println("broker at " + bootstrap + " not ready: " + lastError);
        System.exit(1);
    }
}
