// The oracle: a real Java (JSSE) client connects with a keystore through its own key manager and
// reports which alias the key manager chose for the server's CertificateRequest.
// Usage: java ChooseAlias KEYSTORE STOREPASS HOST PORT [PKIX|SunX509] [TLSv1.2|TLSv1.3]
import java.io.File;
import java.net.Socket;
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

public class ChooseAlias {
    public static void main(String[] args) throws Exception {
        String algorithm = args.length > 4 ? args[4] : "PKIX";
        String protocol = args.length > 5 ? args[5] : "TLSv1.3";
        char[] password = args[1].toCharArray();
        KeyStore store = KeyStore.getInstance(new File(args[0]), password);
        KeyManagerFactory factory = KeyManagerFactory.getInstance(algorithm);
        factory.init(store, password);
        X509ExtendedKeyManager base = (X509ExtendedKeyManager) factory.getKeyManagers()[0];
        final String[] chosen = {null};
        final boolean[] asked = {false};
        X509ExtendedKeyManager spy = new X509ExtendedKeyManager() {
            public String chooseClientAlias(String[] types, Principal[] issuers, Socket socket) {
                asked[0] = true;
                chosen[0] = base.chooseClientAlias(types, issuers, socket);
                return chosen[0];
            }
            public String chooseEngineClientAlias(String[] types, Principal[] issuers, SSLEngine e) {
                asked[0] = true;
                chosen[0] = base.chooseEngineClientAlias(types, issuers, e);
                return chosen[0];
            }
            public String[] getClientAliases(String type, Principal[] issuers) {
                return base.getClientAliases(type, issuers);
            }
            public String[] getServerAliases(String type, Principal[] issuers) {
                return base.getServerAliases(type, issuers);
            }
            public String chooseServerAlias(String type, Principal[] issuers, Socket socket) {
                return base.chooseServerAlias(type, issuers, socket);
            }
            public X509Certificate[] getCertificateChain(String alias) {
                return base.getCertificateChain(alias);
            }
            public PrivateKey getPrivateKey(String alias) {
                return base.getPrivateKey(alias);
            }
        };
        TrustManager[] trustAll = {new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] chain, String type) {}
            public void checkServerTrusted(X509Certificate[] chain, String type) {}
            public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
        }};
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(new KeyManager[] {spy}, trustAll, null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
            socket.connect(new java.net.InetSocketAddress(args[2], Integer.parseInt(args[3])), 5000);
            socket.setSoTimeout(5000);
            socket.setEnabledProtocols(new String[] {protocol});
            try {
                socket.startHandshake();
                // TLS 1.3 servers judge the certificate after Finished: ask for something, read.
                socket.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes("US-ASCII"));
                socket.getOutputStream().flush();
                socket.getInputStream().read();
            } catch (Exception e) {
                System.out.println("ERROR=" + e);
            }
        }
        System.out.println("ASKED=" + asked[0]);
        System.out.println("ALIAS=" + chosen[0]);
    }
}
