import type { OS } from 'xenode';
export default function main(os: OS): Promise<void>;
