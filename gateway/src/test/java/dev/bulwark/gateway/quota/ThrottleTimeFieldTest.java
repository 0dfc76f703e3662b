package dev.bulwark.gateway.quota;

import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.MessageUtil;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThrottleTimeFieldTest {

    @Test
    void setsAndReadsTheField() {
        ProduceResponseData response = new ProduceResponseData();
        assertTrue(ThrottleTimeField.set(response, 1234));
        assertEquals(1234, response.throttleTimeMs());
        assertEquals(1234, ThrottleTimeField.get(response));
    }

    @Test
    void aResponseWithoutTheFieldIsLeftAlone() {
        SaslHandshakeResponseData response = new SaslHandshakeResponseData();
        assertFalse(ThrottleTimeField.set(response, 1234));
        assertEquals(0, ThrottleTimeField.get(response));
    }

    /** Every response that has the field can carry a throttle time at every version, including those without it. */
    @Test
    void everyResponseWritesAThrottleTimeAtEveryVersion() {
        int withField = 0;
        for (ApiMessageType type : ApiMessageType.values()) {
            for (short v = type.lowestSupportedVersion(); v <= type.highestSupportedVersion(true); v++) {
                ApiMessage response = type.newResponse();
                if (!ThrottleTimeField.set(response, 500)) {
                    break;
                }
                withField++;
                short version = v;
                try {
                    MessageUtil.toByteBufferAccessor(type.newResponse(), version);
                } catch (RuntimeException e) {
                    continue; // a response whose defaults do not write at all says nothing about the throttle time
                }
                try {
                    MessageUtil.toByteBufferAccessor(response, version);
                } catch (RuntimeException e) {
                    throw new AssertionError(type + " v" + version + " cannot carry a throttle time", e);
                }
            }
        }
        assertTrue(withField > 50, "only " + withField + " responses with a throttle time");
    }
}
