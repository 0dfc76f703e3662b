package dev.bulwark.storage.crypto;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The default build's providers; {@link CryptoProviderFipsTest} covers the FIPS build's. */
class CryptoProviderTest {

    private final CryptoProvider jdk = CryptoProvider.jdk();

    @Test
    void theJdksProvidersSealWithSunJce() throws Exception {
        assertFalse(jdk.isFips());
        assertEquals("SunJCE", jdk.aesGcm().provider().getName());
        assertEquals("SunJCE", jdk.mac("HmacSHA256").getProvider().getName());
        assertEquals("SUN", jdk.messageDigest("SHA-256").getProvider().getName());
        assertEquals(1, jdk.minimumSecretBytes());
        assertTrue(jdk.toString().contains("FIPS mode off"), jdk.toString());
    }

    @Test
    void fipsModeNeedsTheFipsBuild() {
        IllegalStateException e = assertThrows(IllegalStateException.class, CryptoProvider::fips);

        assertTrue(e.getMessage().contains("mvn -Dfips"), e.getMessage());
        assertNull(System.getProperty(CryptoProvider.APPROVED_ONLY_PROPERTY), "nothing is switched on on the way");
    }
}
