package dev.bulwark.gateway.network;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.util.ArrayList;
import java.util.List;

/**
 * An allocator that remembers every buffer it hands out, so a test can tell what was allocated (and how large it was
 * asked to be) and that everything was released.
 */
final class CountingAllocator extends AbstractByteBufAllocator {

    private final List<ByteBuf> allocated = new ArrayList<>();
    private final List<Integer> requestedCapacities = new ArrayList<>();

    CountingAllocator() {
        super(true);
    }

    List<ByteBuf> allocated() {
        return allocated;
    }

    /** The initial capacities asked for, in order. */
    List<Integer> requestedCapacities() {
        return requestedCapacities;
    }

    /** Buffers handed out that are still referenced. */
    List<ByteBuf> unreleased() {
        return allocated.stream().filter(b -> b.refCnt() > 0).toList();
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return track(UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity), initialCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return track(UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity), initialCapacity);
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
        CompositeByteBuf composite = super.compositeDirectBuffer(maxNumComponents);
        track(composite, 0);
        return composite;
    }

    @Override
    public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
        CompositeByteBuf composite = super.compositeHeapBuffer(maxNumComponents);
        track(composite, 0);
        return composite;
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    private ByteBuf track(ByteBuf buffer, int initialCapacity) {
        allocated.add(buffer);
        requestedCapacities.add(initialCapacity);
        return buffer;
    }
}
