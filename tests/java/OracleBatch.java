// The oracle, batched: one JVM runs many cases, each a real JSSE client connecting with a
// keystore through its own key manager, and reports which alias the key manager chose (and the
// key types JSSE asked for). Starting one JVM per case would cost ~0.5 s each; this costs ~20 ms.
// Input (stdin), one case per line, tab-separated:
//   ID  KEYSTORE  STOREPASS  HOST  PORT  PKIX|SunX509  TLSv1.2|TLSv1.3
// Output (stdout), one line per case, tab-separated:
//   ID  ASKED=true|false  ALIAS=<alias>|null  TYPES=<key types of the last call>  ERROR=<exception>|
//   HTTP=<the response's status line>|
// Builds with javac --release 11 so that every JDK from 11 on runs the same class file.
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509TrustManager;

public class OracleBatch {
    static final class Spy extends X509ExtendedKeyManager {
        final X509ExtendedKeyManager base;
        boolean asked;
        String chosen;
        String types = "";

        Spy(X509ExtendedKeyManager base) { this.base = base; }

        private String note(String[] keyTypes, String alias) {
            asked = true;
            types = String.join(",", keyTypes);
            if (alias != null) chosen = alias;  // JDK 11 asks once per key type; keep the hit
            return alias;
        }
        public String chooseClientAlias(String[] types, Principal[] issuers, Socket socket) {
            return note(types, base.chooseClientAlias(types, issuers, socket));
        }
        public String chooseEngineClientAlias(String[] types, Principal[] issuers, SSLEngine e) {
            return note(types, base.chooseEngineClientAlias(types, issuers, e));
        }
        public String[] getClientAliases(String type, Principal[] issuers) { return base.getClientAliases(type, issuers); }
        public String[] getServerAliases(String type, Principal[] issuers) { return base.getServerAliases(type, issuers); }
        public String chooseServerAlias(String type, Principal[] issuers, Socket socket) { return base.chooseServerAlias(type, issuers, socket); }
        public X509Certificate[] getCertificateChain(String alias) { return base.getCertificateChain(alias); }
        public PrivateKey getPrivateKey(String alias) { return base.getPrivateKey(alias); }
    }

    static String oneLine(Throwable e) {
        StringBuilder text = new StringBuilder(String.valueOf(e));
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) text.append(" / ").append(cause);
        return text.toString().replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }

    static String run(String[] f) {
        Spy spy = null;
        String error = "";
        StringBuilder status = new StringBuilder();
        try {
            char[] password = f[2].toCharArray();
            KeyStore store = KeyStore.getInstance(new File(f[1]), password);
            KeyManagerFactory factory = KeyManagerFactory.getInstance(f[5]);
            factory.init(store, password);
            spy = new Spy((X509ExtendedKeyManager) factory.getKeyManagers()[0]);
            TrustManager[] trustAll = {new X509TrustManager() {
                public void checkClientTrusted(X509Certificate[] chain, String type) {}
                public void checkServerTrusted(X509Certificate[] chain, String type) {}
                public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
            }};
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {spy}, trustAll, null);
            try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
                socket.connect(new InetSocketAddress(f[3], Integer.parseInt(f[4])), 5000);
                socket.setSoTimeout(5000);
                socket.setEnabledProtocols(new String[] {f[6]});
                socket.startHandshake();
                // TLS 1.3 servers judge the certificate after Finished: ask for something, read.
                socket.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                // The status line tells what nginx made of the certificate (400 when it is missing).
                for (int c = socket.getInputStream().read(); c != -1 && c != '\n' && status.length() < 200;
                        c = socket.getInputStream().read()) {
                    if (c != '\r' && c != '\t') status.append((char) c);
                }
            }
        } catch (Exception e) {
            error = oneLine(e);
        }
        return f[0] + "\tASKED=" + (spy != null && spy.asked) + "\tALIAS=" + (spy == null ? null : spy.chosen)
            + "\tTYPES=" + (spy == null ? "" : spy.types) + "\tERROR=" + error + "\tHTTP=" + status;
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.isEmpty()) continue;
            System.out.println(run(line.split("\t", -1)));
            System.out.flush();
        }
    }
}
