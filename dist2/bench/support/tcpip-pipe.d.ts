import { type TcpipStack } from '../../src/tcpip/stack.js';
/** Stack a at 10.0.0.1 and b at 10.0.0.2 on one link, with the vif offloads on or off. */
export declare function stackPair(offload: boolean, maxConnections?: number): {
    a: TcpipStack;
    b: TcpipStack;
};
