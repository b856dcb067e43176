import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A Java TLS server that requires a client certificate, for server-side javax.net.debug logs:
 * LogServer KEYSTORE TRUSTSTORE PASSWORD PROTOCOL PORTFILE. It answers one connection (HTTP/1.0 200
 * after a completed handshake) and exits; the debug output goes to stderr.
 */
public final class LogServer {
    public static void main(String[] args) throws Exception {
        char[] pw = args[2].toCharArray();
        KeyStore keys = KeyStore.getInstance("JKS");
        try (InputStream in = new FileInputStream(args[0])) {
            keys.load(in, pw);
        }
        KeyStore trust = KeyStore.getInstance("JKS");
        try (InputStream in = new FileInputStream(args[1])) {
            trust.load(in, pw);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, pw);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        try (SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0)) {
            server.setNeedClientAuth(true);
            server.setEnabledProtocols(new String[] {args[3]});
            Files.write(Paths.get(args[4]), Integer.toString(server.getLocalPort()).getBytes(StandardCharsets.US_ASCII));
            server.setSoTimeout(20000);
            try (SSLSocket socket = (SSLSocket) server.accept()) {
                socket.setSoTimeout(5000);
                socket.startHandshake();
                OutputStream out = socket.getOutputStream();
                out.write("HTTP/1.0 200 ok\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                System.out.println("server: handshake completed");
            } catch (Exception e) {
                System.out.println("server: " + e);
            }
        }
    }
}
