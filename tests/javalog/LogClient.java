// A plain Java (JSSE) mTLS client whose javax.net.debug output the tests read back.
// One JVM runs many scenarios (the debug value is fixed per JVM); each scenario's debug output and
// application output go to its own file, as `java ... > app.log 2>&1` would interleave them.
// Usage: java LogClient SCENARIOS_FILE OUT_DIR
//   each line: NAME KEYSTORE|- STOREPASS TRUSTSTORE|- HOST PORT PROTOCOL VERIFY_HOST(true|false)
import java.io.BufferedReader;
import java.io.File;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

public class LogClient {
    public static void main(String[] args) throws Exception {
        PrintStream console = System.out;
        for (String line : Files.readAllLines(new File(args[0]).toPath())) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 8) continue;
            PrintStream log = new PrintStream(new FileOutputStream(new File(args[1], f[0] + ".log")), true, "UTF-8");
            System.setErr(log);
            System.setOut(log);
            String verdict;
            try {
                verdict = run(f);
            } catch (Throwable e) {
                System.err.print("Exception in thread \"main\" ");
                e.printStackTrace();
                verdict = "ERROR " + e;
            }
            log.flush();
            log.close();
            console.println(f[0] + " " + verdict.replace('\n', ' '));
        }
        System.setOut(console);
    }

    static String run(String[] f) throws Exception {
        KeyManager[] keys = null;
        char[] password = f[2].toCharArray();
        if (!f[1].equals("-")) {
            KeyStore store = KeyStore.getInstance(new File(f[1]), password);
            KeyManagerFactory factory = KeyManagerFactory.getInstance("SunX509");
            factory.init(store, password);
            keys = factory.getKeyManagers();
        }
        TrustManager[] trust = null;
        if (!f[3].equals("-")) {
            KeyStore store = KeyStore.getInstance(new File(f[3]), "changeit".toCharArray());
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(store);
            trust = factory.getTrustManagers();
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys, trust, null);
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", Integer.parseInt(f[5])), 5000);
        plain.setSoTimeout(5000);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, f[4], Integer.parseInt(f[5]), true)) {
            socket.setEnabledProtocols(new String[] {f[6]});
            if (f[7].equals("true")) {
                SSLParameters params = socket.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(params);
            }
            socket.startHandshake();
            System.out.println("GET https://" + f[4] + ":" + f[5] + "/ via 127.0.0.1 (" + socket.getSession().getProtocol() + ")");
            socket.getOutputStream().write(("GET / HTTP/1.0\r\nHost: " + f[4] + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            BufferedReader reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            String status = reader.readLine();
            System.out.println(status);
            return "OK " + status;
        }
    }
}
