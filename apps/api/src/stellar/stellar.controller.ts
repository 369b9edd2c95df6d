import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { ApiConfig } from '@nova/config';
import { InjectConfig } from '../config/config.module';

class StellarAsset {
  @ApiProperty({ example: 'NOVA' }) code!: string;
  @ApiProperty({ example: 'GB3...' }) issuer!: string;
}

export class StellarNetworkView {
  @ApiProperty({ enum: ['sandbox', 'testnet', 'public'] }) network!: string;
  @ApiProperty({ example: 'Test SDF Network ; September 2015' }) networkPassphrase!: string;
  @ApiProperty({ example: 'https://horizon-testnet.stellar.org' }) horizonUrl!: string;
  @ApiProperty({ example: 'https://soroban-testnet.stellar.org' }) sorobanRpcUrl!: string;
  @ApiProperty({ type: StellarAsset }) asset!: StellarAsset;
  @ApiProperty({ description: 'The account rewards are paid from', example: 'GD7...' }) distributionAccount!: string;
}

@ApiTags('stellar')
@Controller('v1/stellar')
export class StellarController {
  constructor(@InjectConfig() private readonly config: ApiConfig) {}

  @Get()
  @ApiOperation({ summary: 'What a wallet needs to add the NOVA trustline and receive rewards' })
  @ApiOkResponse({ type: StellarNetworkView })
  network(): StellarNetworkView {
    const { stellar } = this.config;
    return {
      network: stellar.network,
      networkPassphrase: stellar.networkPassphrase,
      horizonUrl: stellar.horizonUrl,
      sorobanRpcUrl: stellar.sorobanRpcUrl,
      asset: { code: stellar.assetCode, issuer: stellar.assetIssuer },
      distributionAccount: stellar.distributionAccount,
    };
  }
}
